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


def _due_at(ctx: SweepContext, horizon: timedelta) -> frozenset[uuid.UUID]:
    """Ids of the tenant's (not erased) families that the retention rules make due at now + *horizon*.

    One statement over the tenant (the rules are set operations over its families); within one
    sweep the validity pass and the due-query share the answer (same tenant, same clock).
    """
    key = (ctx.tenant_id, ctx.now, horizon)
    if key not in _DUE_CACHE:
        if len(_DUE_CACHE) > 32:
            _DUE_CACHE.clear()
        q = due_query(ctx.tenant_id, ctx.settings["retention"], ctx.now + horizon).with_only_columns(Family.id)
        _DUE_CACHE[key] = frozenset(db.session.scalars(q.order_by(None)))
    return _DUE_CACHE[key]


_DUE_CACHE: dict[tuple[Any, ...], frozenset[uuid.UUID]] = {}


def _deadlines(ctx: SweepContext, family_ids: set[uuid.UUID], days: int) -> dict[uuid.UUID, datetime]:
    """The first day (from now, within *days*) on which each family is due: "at the latest" to the day.

    Scans backwards from the last day of the notice period: a family entering the period in the
    normal course is not due a day earlier, so one statement settles it; only families found late
    (first run, shortened periods) take more.
    """
    found = dict.fromkeys(family_ids, ctx.now + timedelta(days=days))
    earlier = set(family_ids)
    for day in range(days - 1, -1, -1):
        earlier &= _due_at(ctx, timedelta(days=day))
        if not earlier:
            break
        found.update(dict.fromkeys(earlier, ctx.now + timedelta(days=day)))
    return found


def _announced(ctx: SweepContext) -> set[uuid.UUID]:
    """Families of the tenant with a standing notice (an open or done reminder of this kind).

    A family kept by a new hold (its reminders cancelled) and due again years later is announced
    again, with a new occurrence (the date it was found); while a notice stands nothing is created.
    """
    return set(db.session.scalars(
        sa.select(Reminder.subject_id).where(Reminder.tenant_id == ctx.tenant_id, Reminder.kind == "retention_due",
                                             state_is(Reminder.state, "open", "done")).distinct()))


def _dpo_ids(ctx: SweepContext) -> tuple[uuid.UUID, ...]:
    return tuple(db.session.scalars(
        sa.select(User.id).join(UserRole, UserRole.user_id == User.id)
        .where(User.tenant_id == ctx.tenant_id, User.is_active, UserRole.role == Role.dpo)
        .distinct().order_by(User.id)))


def _retention_due(ctx: SweepContext) -> Iterable[Occasion]:
    """Families entering the notice period; those already announced cost nothing (no statement per family)."""
    days = ctx.reminders["retention_notice_days"]
    new = set(_due_at(ctx, timedelta(days=days)))
    if new:
        new -= _announced(ctx)
    if not new:
        return
    recipients = _dpo_ids(ctx)
    found = _deadlines(ctx, new, days)
    numbers = case_numbers(new)
    first_seen = local_date(ctx.now).isoformat()
    for family_id in sorted(new):
        if family_id not in numbers:
            continue
        deadline = found[family_id]
        yield Occasion(subject_type="family", subject_id=family_id, occurrence=first_seen,
                       opens_dt=min(ctx.now, deadline), due_dt=deadline, case_number=numbers[family_id],
                       family_id=family_id, link_path=f"/datenschutz/familien/{family_id}", user_ids=recipients,
                       params={"deadline": local_date(deadline).strftime("%d.%m.%Y")})


def _retention_valid(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
    """Still due within the notice period (no hold came back) and not erased yet: one statement per sweep."""
    alive = _due_at(ctx, timedelta(days=ctx.reminders["retention_notice_days"]))
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
