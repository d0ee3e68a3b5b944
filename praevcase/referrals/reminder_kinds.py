"""Reminder kind of referrals: asked at the provider, not started after N days (``referral_not_started_days``)."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.referrals.models import Referral
from praevcase.reminders.operations import state_is
from praevcase.reminders.registry import Occasion
from praevcase.reminders.registry import ReminderKind
from praevcase.reminders.registry import SweepContext
from praevcase.reminders.registry import register_kind
from praevcase.reminders.windows import local_date


def _due(ctx: SweepContext) -> Iterable[Occasion]:
    days = timedelta(days=ctx.reminders["referral_not_started_days"])
    rows = db.session.execute(
        sa.select(Referral.id, Referral.requested_dt, Case.id, Case.lotse_user_id, Family.case_number, Family.id)
        .join(Case, Case.id == Referral.case_id).join(Family, Family.id == Case.family_id)
        .where(Referral.tenant_id == ctx.tenant_id, state_is(Referral.state, "requested"),
               Referral.requested_dt <= ctx.now - days, Case.lotse_user_id.is_not(None), Family.erased_dt.is_(None)))
    for referral_id, requested, case_id, lotse_id, number, family_id in rows:
        yield Occasion(subject_type="referral", subject_id=referral_id, occurrence=requested.date().isoformat(),
                       opens_dt=requested + days, due_dt=requested + days + timedelta(days=7), case_number=number,
                       family_id=family_id, link_path=f"/lotse/{case_id}", user_ids=(lotse_id,),
                       params={"requested": local_date(requested).strftime("%d.%m.%Y")})


def _valid(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
    """Still waiting at the provider."""
    waiting = set(db.session.scalars(sa.select(Referral.id).where(
        Referral.id.in_({r.subject_id for r in reminders}), state_is(Referral.state, "requested"))))
    return {r.id for r in reminders if r.subject_id in waiting}


register_kind(ReminderKind(
    name="referral_not_started",
    label="Vermittlung nachfassen",
    due=_due,
    still_valid=_valid,
    text=lambda p: f"Am {p['requested']} beim Anbieter angefragt und noch nicht begonnen: beim Anbieter nachfragen",
    recipient_roles=frozenset({Role.team_member}),
))
