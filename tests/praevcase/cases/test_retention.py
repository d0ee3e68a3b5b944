"""Retention of cases: an open case holds the family; a case closed long enough ago makes it due."""
from __future__ import annotations

from datetime import timedelta

from praevcase.cases import operations as ops
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.schemas import JobcenterIntakeIn
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.privacy.retention import due_families
from tests.praevcase.cases.conftest import jobcenter_payload
from workflows.case import ClosingReason


def _open(k, now):
    return ops.open_case(k.tenant, IntakeChannel.jobcenter_observation, JobcenterIntakeIn().load(jobcenter_payload(k)),
                         JobcenterIntakeIn.ANSWER_FIELDS, actor=k.intake, now=now)


def test_an_open_case_keeps_the_family_even_when_its_consents_ended_long_ago(kreis_ctx, now):
    case = _open(kreis_ctx, now)
    far = now + timedelta(days=365 * 5)
    assert case.family_id not in {f.id for f in due_families(kreis_ctx.tenant, far)}


def test_a_case_closed_longer_than_the_deadline_makes_the_family_due(kreis_ctx, now):
    case = _open(kreis_ctx, now)
    ops.fire_case(case, "close", actor=kreis_ctx.coordinator, now=now, closing_reason=ClosingReason.goals_met)
    db.session.flush()
    months = kreis_ctx.tenant.settings["retention"]["closed_case_months"]
    family = db.session.get(Family, case.family_id)
    assert family not in due_families(kreis_ctx.tenant, now + timedelta(days=30 * months - 31))
    assert family in due_families(kreis_ctx.tenant, now + timedelta(days=31 * months + 1))
