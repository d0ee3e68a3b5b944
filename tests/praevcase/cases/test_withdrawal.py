"""A withdrawal recorded anywhere (consent page, API, any agency) closes the family's open cases."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from praevcase.cases import operations as ops
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.schemas import JobcenterIntakeIn
from praevcase.extensions import db
from praevcase.privacy import operations as privacy
from praevcase.privacy.models import ConsentRecord
from tests.praevcase.cases.conftest import jobcenter_payload
from workflows.case import CaseState
from workflows.case import ClosingReason


def _open(k, now):
    return ops.open_case(k.tenant, IntakeChannel.jobcenter_observation, JobcenterIntakeIn().load(jobcenter_payload(k)),
                         JobcenterIntakeIn.ANSWER_FIELDS, actor=k.intake, now=now)


def _team_consents(case):
    return db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.family_id == case.family_id)).all()


def test_withdrawing_the_team_consent_closes_the_open_case(kreis_ctx, now):
    case = _open(kreis_ctx, now)
    assert case.state is CaseState.ready_for_review
    later = now + timedelta(hours=1)
    (rec,) = _team_consents(case)
    privacy.withdraw_consent(rec, via="telefonisch", actor=kreis_ctx.dpo, now=later)
    db.session.flush()
    assert case.state is CaseState.closed
    assert case.closing_reason is ClosingReason.consent_withdrawn and case.closed_dt == later


def test_a_remaining_team_consent_keeps_the_case_open(kreis_ctx, now):
    case = _open(kreis_ctx, now)
    (first,) = _team_consents(case)
    second = privacy.record_consent(_family(case), template=kreis_ctx.template,
                                    purposes={p for p in _purposes(first)}, categories=set(),
                                    recipient_agency_ids=set(), signatories=first.signatories,
                                    channel=first.channel, actor=kreis_ctx.intake, now=now)
    assert second is not None
    privacy.withdraw_consent(first, via="schriftlich", actor=kreis_ctx.intake, now=now + timedelta(minutes=1))
    assert case.state is CaseState.ready_for_review


def _family(case):
    from praevcase.privacy.models import Family

    return db.session.get(Family, case.family_id)


def _purposes(rec):
    from consent.scopes import Purpose

    return [Purpose(p) for p in rec.purposes]
