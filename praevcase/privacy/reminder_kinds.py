"""Reminder kinds of the data-protection core.

- ``consent_expiring``: a consent reaches its ``valid_until`` within ``consent_expiring_days``; goes to
  the person who obtained it (else the agency's staff who record consents);
- ``retention_due``: a family's retention period runs out within ``retention_notice_days`` (the
  rules and holds of :mod:`praevcase.privacy.retention`); goes to the tenant's data-protection
  officers, so a legal reason to keep the data can still be recorded before the retention job
  erases the family. It disappears when a hold comes back (a new case) or the family is erased.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.models import UserRole
from praevcase.extensions import db
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Family
from praevcase.privacy.operations import expire_due_consents
from praevcase.privacy.retention import due_query
from praevcase.reminders.models import Reminder
from praevcase.reminders.operations import LOOKUP_CHUNK
from praevcase.reminders.operations import case_numbers
from praevcase.reminders.operations import state_is
from praevcase.reminders.registry import Occasion
from praevcase.reminders.registry import ReminderKind
from praevcase.reminders.registry import SweepContext
from praevcase.reminders.registry import register_job
from praevcase.reminders.registry import register_kind
from praevcase.reminders.windows import local_date

# consents past valid_until get their state "expired" before the kinds are computed (the policy denies
# them from that instant anyway; this makes lists and the consent log say so)
register_job("privacy.expire_consents", expire_due_consents)


def _consent_expiring_due(ctx: SweepContext) -> Iterable[Occasion]:
    days = ctx.reminders["consent_expiring_days"]
    rows = db.session.execute(
        sa.select(ConsentRecord.id, ConsentRecord.family_id, ConsentRecord.valid_until, ConsentRecord.obtained_by_id,
                  ConsentRecord.obtained_agency_id)
        .where(ConsentRecord.tenant_id == ctx.tenant_id, state_is(ConsentRecord.state, "active"),
               ConsentRecord.valid_until.is_not(None), ConsentRecord.valid_until > ctx.now,
               ConsentRecord.valid_until <= ctx.now + timedelta(days=days))).all()
    numbers = case_numbers(r.family_id for r in rows)
    for consent_id, family_id, valid_until, by_id, agency_id in rows:
        if family_id not in numbers:
            continue  # erased
        yield Occasion(subject_type="consent", subject_id=consent_id, occurrence=valid_until.date().isoformat(),
                       opens_dt=valid_until - timedelta(days=days), due_dt=valid_until,
                       case_number=numbers[family_id], family_id=family_id, user_ids=(by_id,), agency_id=agency_id,
                       params={"valid_until": local_date(valid_until).strftime("%d.%m.%Y")})


def _consent_expiring_valid(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
    """Still active (not withdrawn, superseded or expired) and its family not erased."""
    rows = db.session.execute(
        sa.select(ConsentRecord.id, ConsentRecord.family_id)
        .where(ConsentRecord.id.in_({r.subject_id for r in reminders}), state_is(ConsentRecord.state, "active"),
               sa.or_(ConsentRecord.valid_until.is_(None), ConsentRecord.valid_until > ctx.now),
               ConsentRecord.withdrawn_dt.is_(None), ConsentRecord.superseded_dt.is_(None))).all()
    numbers = case_numbers(r.family_id for r in rows)
    alive = {consent_id for consent_id, family_id in rows if family_id in numbers}
    return {r.id for r in reminders if r.subject_id in alive}


CONSENT_EXPIRING = register_kind(ReminderKind(
    name="consent_expiring",
    label="Einwilligung läuft ab",
    due=_consent_expiring_due,
    still_valid=_consent_expiring_valid,
    text=lambda p: f"Einwilligung läuft am {p['valid_until']} ab: bei Bedarf eine neue Einwilligung einholen",
    # the person who obtained it; if no longer active, the agency's staff who record consents
    recipient_roles=frozenset({Role.intake, Role.team_member, Role.coordinator, Role.school_staff}),
))


# --- retention due ----------------------------------------------------------------------------------


def _due_within(ctx: SweepContext, horizon: timedelta, family_ids: Any = None) -> set[uuid.UUID]:
    """Ids of the tenant's (not erased) families that the retention rules make due at now + *horizon*."""
    q = due_query(ctx.tenant_id, ctx.settings["retention"], ctx.now + horizon).with_only_columns(Family.id)
    if family_ids is None:
        return set(db.session.scalars(q.order_by(None)))
    ids, out = sorted(family_ids), set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        out |= set(db.session.scalars(q.where(Family.id.in_(ids[start:start + LOOKUP_CHUNK])).order_by(None)))
    return out


def _deadlines(ctx: SweepContext, family_ids: set[uuid.UUID], days: int) -> dict[uuid.UUID, datetime]:
    """The first day (from now, within *days*) on which each family is due: "at the latest" to the day."""
    found: dict[uuid.UUID, datetime] = {}
    pending = set(family_ids)
    for day in range(days + 1):
        if not pending:
            break
        hit = _due_within(ctx, timedelta(days=day), pending)
        found.update(dict.fromkeys(hit, ctx.now + timedelta(days=day)))
        pending -= hit
    return found


def _episodes(family_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, datetime]]:
    """Occurrence and deadline of each family's current notice: those of its open or done reminder.

    A family kept by a new hold (its reminders cancelled) and due again years later gets a new
    occurrence (the date it was found), so it is announced again; while the notice stands, every
    sweep finds the same occurrence and creates nothing twice.
    """
    rows = db.session.execute(
        sa.select(Reminder.subject_id, sa.func.max(Reminder.occurrence), sa.func.min(Reminder.due_dt))
        .where(Reminder.kind == "retention_due", Reminder.subject_id.in_(family_ids),
               state_is(Reminder.state, "open", "done"))
        .group_by(Reminder.subject_id)).all()
    return {family_id: (occurrence, due_dt) for family_id, occurrence, due_dt in rows}


def _dpo_ids(ctx: SweepContext) -> tuple[uuid.UUID, ...]:
    return tuple(db.session.scalars(
        sa.select(User.id).join(UserRole, UserRole.user_id == User.id)
        .where(User.tenant_id == ctx.tenant_id, User.is_active, UserRole.role == Role.dpo)
        .distinct().order_by(User.id)))


def _retention_due(ctx: SweepContext) -> Iterable[Occasion]:
    days = ctx.reminders["retention_notice_days"]
    soon = _due_within(ctx, timedelta(days=days))
    if not soon:
        return
    recipients = _dpo_ids(ctx)
    known = _episodes(soon)
    # the deadline of a family met for the first time, to the day (at most days+1 small queries)
    found = _deadlines(ctx, soon - set(known), days)
    numbers = case_numbers(soon)
    first_seen = local_date(ctx.now).isoformat()
    for family_id in sorted(soon):
        if family_id not in numbers:
            continue
        occurrence, deadline = known.get(family_id) or (first_seen, found[family_id])
        yield Occasion(subject_type="family", subject_id=family_id, occurrence=occurrence,
                       opens_dt=min(ctx.now, deadline), due_dt=deadline, case_number=numbers[family_id],
                       family_id=family_id, link_path=f"/datenschutz/familien/{family_id}", user_ids=recipients,
                       params={"deadline": local_date(deadline).strftime("%d.%m.%Y")})


def _retention_valid(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
    """Still due within the notice period (no hold came back) and not erased yet."""
    notice = timedelta(days=ctx.reminders["retention_notice_days"])
    alive = _due_within(ctx, notice, {r.subject_id for r in reminders})
    return {r.id for r in reminders if r.subject_id in alive}


RETENTION_DUE = register_kind(ReminderKind(
    name="retention_due",
    label="Löschfrist läuft ab",
    due=_retention_due,
    still_valid=_retention_valid,
    text=lambda p: (f"Die Aufbewahrungsfrist endet spätestens am {p['deadline']}: danach löscht der Löschfristenlauf "
                    "die Familie, falls kein Grund zur weiteren Aufbewahrung vorliegt"),
    recipient_roles=frozenset({Role.dpo}),
))
