"""Erasing a family leaves only pseudonymous case metadata: answers, summary and justification go."""
from __future__ import annotations

import sqlalchemy as sa

from praevcase.cases import operations as ops
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.models import Case
from praevcase.cases.models import CaseIntake
from praevcase.cases.schemas import JobcenterIntakeIn
from praevcase.extensions import db
from praevcase.privacy.erasure import erase_family
from praevcase.privacy.models import Family
from tests.praevcase.cases.conftest import jobcenter_payload


def test_erasure_removes_what_the_case_holds_about_the_family(kreis_ctx, now):
    k = kreis_ctx
    case = ops.open_case(k.tenant, IntakeChannel.jobcenter_observation, JobcenterIntakeIn().load(jobcenter_payload(k)),
                         JobcenterIntakeIn.ANSWER_FIELDS, actor=k.intake, now=now)
    ops.propose_escalation(case, {"version": case.version, "escalated_to_agency_id": k.jugendamt.id,
                                  "justification": "Konkrete, gewichtige Anhaltspunkte."}, actor=k.coordinator, now=now)
    family = db.session.get(Family, case.family_id)
    erase_family(family, cause="request", requested_by=k.dpo.id, approved_by=k.coordinator.id, actor=k.dpo, now=now,
                 write_file=False)
    db.session.flush()
    row = db.session.get(Case, case.id)
    assert row is not None and row.state.value == "ready_for_review"  # pseudonymous metadata stays
    assert row.team_summary == "" and row.escalation_justification_ct is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseIntake)
                             .where(CaseIntake.case_id == case.id)) == 0
