"""A small municipality with cases whose counts are known, for the report tests.

Cases are written as rows with their transition history (what the reports read), not through
the intake forms: the reports must be right for any data the case workflow can produce.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest

from praevcase.accounts.models import Role
from praevcase.cases.catalogue import AgePhase
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.models import Case
from praevcase.database import new_id
from praevcase.extensions import db
from praevcase.privacy import operations as privacy
from praevcase.privacy.models import PersonRole
from praevcase.statemachine import TransitionHistory
from praevcase.tenancy import set_scope
from praevcase.tenants.models import AgencyKind
from praevcase.tenants.settings import effective_settings
from tests.conftest import arrange
from tests.factories import AgencyFactory
from tests.factories import TenantFactory
from tests.factories import UserFactory
from workflows.case import CaseState
from workflows.case import ClosingReason

CANARY_GIVEN = "Quaxolinde"
CANARY_FAMILY = "Zwetschgenbaum"
CANARY_BIRTH = date(2021, 3, 14)
CASE_NUMBER = r"[A-Z]{2,8}-\d{4}-\d{5}"

#: The path of a case through the workflow up to each state (trigger, from, to)
_PATH = [("submit", "draft", "consent_pending"), ("confirm_consent", "consent_pending", "ready_for_review"),
         ("put_on_agenda", "ready_for_review", "on_agenda"), ("assign_lotse", "on_agenda", "in_support"),
         ("close", "in_support", "closed")]


@dataclass
class Town:
    tenant: object
    jobcenter: object
    clinic: object
    intake: object
    coordinator: object
    statistics: object
    admin: object
    lotse: object
    cases: list = field(default_factory=list)


def make_town(*, sozialraeume=("Nord", "Süd", "Kleinraum"), k=5, prefix="TK") -> Town:
    tenant = TenantFactory(case_prefix=prefix,
                           settings=effective_settings({"sozialraeume": list(sozialraeume), "suppression_k": k}))
    jc = AgencyFactory(tenant=tenant, name="Jobcenter", kind=AgencyKind.jobcenter)
    clinic = AgencyFactory(tenant=tenant, name="Familienbüro", kind=AgencyKind.familienbuero)
    pb = AgencyFactory(tenant=tenant, name="Präventionsbüro", kind=AgencyKind.praeventionsbuero)
    town = Town(tenant, jc, clinic,
                intake=UserFactory(agency=jc, roles=[Role.intake]),
                coordinator=UserFactory(agency=pb, roles=[Role.coordinator]),
                statistics=UserFactory(agency=pb, roles=[Role.statistics], display_name="Statistik"),
                admin=UserFactory(agency=pb, roles=[Role.admin]),
                lotse=UserFactory(agency=clinic, roles=[Role.team_member]))
    set_scope(db.session, tenant.id)
    return town


def add_case(town: Town, *, sozialraum: str | None = "Nord", channel=IntakeChannel.jobcenter_observation,
             age_phase=AgePhase.kita, state=CaseState.ready_for_review, created: datetime,
             agency=None, needs=("kita_platz",), days_per_step: float = 10,
             closing_reason=ClosingReason.goals_met, names: bool = False) -> Case:
    """A case with its history: each workflow step *days_per_step* days after the previous one."""
    agency = agency or town.jobcenter
    family = privacy.create_family(town.tenant, holder_agency=agency, sozialraum=sozialraum, actor=town.intake,
                                   now=created)
    if names:
        privacy.add_person(family, role=PersonRole.child, given_name=CANARY_GIVEN, family_name=CANARY_FAMILY,
                           birth_date=CANARY_BIRTH, now=created)
    steps = {"draft": 0, "consent_pending": 1, "ready_for_review": 2, "on_agenda": 3, "in_support": 4, "closed": 5}
    path = _PATH[:steps[state.value]] if state is not CaseState.escalated else _PATH[:1]
    times = [created + timedelta(days=days_per_step * (n + 1)) for n in range(len(path))]
    reached = dict(zip((p[2] for p in path), times, strict=True))
    case = Case(id=new_id(), tenant_id=town.tenant.id, family_id=family.id, channel=channel,
                origin_agency_id=agency.id, opened_by_id=town.intake.id, state=state, age_phase=age_phase,
                needs=list(needs), team_summary="ohne Namen", four_eyes_required=False, created_dt=created,
                reached_team_dt=reached.get("ready_for_review"),
                lotse_user_id=town.lotse.id if "in_support" in reached else None,
                lotse_assigned_dt=reached.get("in_support"), first_lotse_dt=reached.get("in_support"),
                reviewed_dt=reached.get("in_support"),  # the milestones fire_case sets (assign_lotse leaves on_agenda)
                closing_reason=closing_reason if state is CaseState.closed else None,
                closed_dt=reached.get("closed"))
    db.session.add(case)
    for (trigger, source, dest), at in zip(path, times, strict=True):
        db.session.add(TransitionHistory(id=new_id(), tenant_id=town.tenant.id, workflow="case", object_id=case.id,
                                         trigger=trigger, from_state=source, to_state=dest,
                                         actor_id=town.coordinator.id, occurred_dt=at))
    db.session.flush()
    town.cases.append(case)
    return case


def at(year: int, month: int, day: int = 10) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


@pytest.fixture
def town(app) -> Town:
    """24 cases in the first half of 2026: Nord 12, Süd 9, Kleinraum 3 (below k = 5)."""
    with arrange(app):
        t = make_town()
        for n in range(12):
            add_case(t, sozialraum="Nord", created=at(2026, 2, 1 + n))
        for n in range(9):
            add_case(t, sozialraum="Süd", created=at(2026, 2, 1 + n))
        for n in range(3):
            add_case(t, sozialraum="Kleinraum", created=at(2026, 2, 1 + n), names=True)
    return t
