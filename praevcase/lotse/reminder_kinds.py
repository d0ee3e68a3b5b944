"""Reminder kind of the Lotse: no contact with an accompanied family for N days (``lotse_no_contact_days``).

The occurrence is the date of the last contact (or of the assignment): a new contact ends the
reminder and starts a new count.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import date
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.lotse.queries import latest_contacts
from praevcase.privacy.models import Family
from praevcase.reminders.operations import state_is
from praevcase.reminders.registry import Occasion
from praevcase.reminders.registry import ReminderKind
from praevcase.reminders.registry import SweepContext
from praevcase.reminders.registry import register_kind
from praevcase.reminders.windows import local_date
from praevcase.reminders.windows import local_midnight


def _last_dates(case_rows: list[tuple[Any, ...]]) -> dict[uuid.UUID, date]:
    """Date of the last contact, or of the Lotse's assignment when there was none, per case."""
    contacts = latest_contacts([row[0] for row in case_rows])
    out = {}
    for case_id, _lotse, assigned, *_rest in case_rows:
        out[case_id] = contacts[case_id].contact_date if case_id in contacts else local_date(assigned)
    return out


def _rows(*where: Any) -> list[tuple[Any, ...]]:
    return list(db.session.execute(
        sa.select(Case.id, Case.lotse_user_id, Case.lotse_assigned_dt, Family.case_number, Family.id)
        .join(Family, Family.id == Case.family_id)
        .where(state_is(Case.state, "in_support"), Case.lotse_user_id.is_not(None),
               Case.lotse_assigned_dt.is_not(None), Family.erased_dt.is_(None), *where)))


def _due(ctx: SweepContext) -> Iterable[Occasion]:
    days = ctx.reminders["lotse_no_contact_days"]
    rows = _rows(Case.tenant_id == ctx.tenant_id)
    last = _last_dates(rows)
    for case_id, lotse_id, _assigned, number, family_id in rows:
        opens = local_midnight(last[case_id] + timedelta(days=days))
        if opens > ctx.now:
            continue
        yield Occasion(subject_type="case", subject_id=case_id, occurrence=last[case_id].isoformat(), opens_dt=opens,
                       due_dt=opens + timedelta(days=7), case_number=number, family_id=family_id,
                       link_path=f"/lotse/{case_id}", user_ids=(lotse_id,),
                       params={"days": days, "since": last[case_id].strftime("%d.%m.%Y")})


def _valid(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
    """Still in support, the recipient is still the Lotse, and no contact since."""
    rows = _rows(Case.id.in_({r.subject_id for r in reminders}))
    lotse = {row[0]: row[1] for row in rows}
    last = _last_dates(rows)
    return {r.id for r in reminders if r.subject_id in last and lotse[r.subject_id] == r.recipient_id
            and last[r.subject_id].isoformat() == r.occurrence}


register_kind(ReminderKind(
    name="lotse_no_contact",
    label="Kontakt zur Familie aufnehmen",
    due=_due,
    still_valid=_valid,
    text=lambda p: f"Seit {p['days']} Tagen kein Kontakt mit der Familie (letzter Kontakt {p['since']})",
    recipient_roles=frozenset({Role.team_member}),
))
