"""Reminder kinds of the data-protection core: a consent is about to expire.

Kept here until praevcase/privacy takes it over (move this module to
praevcase/privacy/reminder_kinds.py; nothing else changes).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.extensions import db
from praevcase.privacy.models import ConsentRecord
from praevcase.reminders.operations import case_numbers
from praevcase.reminders.operations import state_is
from praevcase.reminders.registry import Occasion
from praevcase.reminders.registry import ReminderKind
from praevcase.reminders.registry import SweepContext
from praevcase.reminders.registry import register_kind
from praevcase.reminders.windows import local_date


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
