"""Every (state, trigger) pair of the case workflow through the app binding, and the permission table."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.cases import operations as ops
from praevcase.errors import Conflict
from praevcase.extensions import db
from praevcase.privacy import operations as privacy
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import seal
from praevcase.statemachine import TRANSITION_RULES
from praevcase.statemachine import TransitionHistory
from praevcase.statemachine import may_fire
from tests.factories import CaseFactory
from tests.factories import FamilyFactory
from workflows import WORKFLOWS
from workflows.case import CaseState
from workflows.case import ClosingReason

CASE = WORKFLOWS["case"]

#: The expected destination of every pair; a pair not listed here must be refused.
ALLOWED: dict[tuple[str, str], str] = {
    ("draft", "submit"): "consent_pending",
    ("draft", "withdraw_consent"): "closed",
    ("draft", "escalate"): "escalated",
    ("consent_pending", "confirm_consent"): "ready_for_review",
    ("consent_pending", "refuse_consent"): "closed",
    ("consent_pending", "withdraw_consent"): "closed",
    ("consent_pending", "escalate"): "escalated",
    ("ready_for_review", "put_on_agenda"): "on_agenda",
    ("ready_for_review", "close"): "closed",
    ("ready_for_review", "withdraw_consent"): "closed",
    ("ready_for_review", "escalate"): "escalated",
    ("on_agenda", "defer"): "ready_for_review",
    ("on_agenda", "assign_lotse"): "in_support",
    ("on_agenda", "close"): "closed",
    ("on_agenda", "withdraw_consent"): "closed",
    ("on_agenda", "escalate"): "escalated",
    ("in_support", "request_rereview"): "ready_for_review",
    ("in_support", "hand_over_lotse"): "in_support",
    ("in_support", "close"): "closed",
    ("in_support", "withdraw_consent"): "closed",
    ("in_support", "escalate"): "escalated",
}
STATES = [s.value for s in CaseState]
PAIRS = [(s, t) for s in STATES for t in CASE.triggers]


def make_case(k, state: str, now):
    """A case in *state* with the columns that state needs, a custody guardian and a proposal on file."""
    family = FamilyFactory(tenant_id=k.tenant.id, holder_agency_id=k.jobcenter.id)
    cols = {"escalation_proposed_by_id": k.coordinator.id, "escalation_proposed_dt": now,
            "escalated_to_agency_id": k.jugendamt.id}
    if state in ("ready_for_review", "on_agenda", "in_support"):
        cols["reached_team_dt"] = now
    if state == "in_support":
        cols.update(lotse_user_id=k.kita_member.id, lotse_assigned_dt=now)
    if state == "closed":
        cols.update(closing_reason=ClosingReason.goals_met, closed_dt=now)
    if state == "escalated":
        cols.update(escalated_by_id=k.youth.id, escalated_dt=now, escalation_legal_basis="child_welfare_8a")
    case = CaseFactory.build(opened_by=k.intake, family=family, state=CaseState(state), **cols)
    seal(family, case, "escalation_justification", "Konkrete Anhaltspunkte, ausführlich beschrieben.")
    db.session.add(case)
    mother = privacy.add_person(family, role=PersonRole.guardian, given_name="A", family_name="B",
                                has_custody=True, now=now)
    db.session.flush()
    privacy.record_consent(family, template=k.template, purposes={Purpose.team_review},
                           categories={DataCategory.identity}, recipient_agency_ids={k.buero.id},
                           signatories=[{"person_id": mother.id}], channel=ConsentChannel.written, actor=k.intake,
                           now=now - timedelta(hours=1))
    return case


def _history(case) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TransitionHistory)
                             .where(TransitionHistory.object_id == case.id))


def test_the_matrix_names_only_real_pairs():
    assert set(ALLOWED) <= set(PAIRS)
    assert {(e.source.value, e.trigger) for e in CASE.edges} == set(ALLOWED)


@pytest.mark.parametrize(("state", "trigger"), PAIRS, ids=[f"{s}-{t}" for s, t in PAIRS])
def test_every_state_and_trigger_through_transition_on_a_real_row(kreis_ctx, now, state, trigger):
    k = kreis_ctx
    case = ops.lock_case(make_case(k, state, now).id, k.intake)  # loaded FOR UPDATE, as every action does
    version = case.version
    expected = ALLOWED.get((state, trigger))
    kwargs = {"closing_reason": ClosingReason.goals_met, "lotse": k.health, "withdrawn_via": "telefon"}
    if expected is None:
        with pytest.raises(Conflict):
            ops.fire_case(case, trigger, actor=k.health, now=now, check_permission=False, **kwargs)
        assert case.state.value == state and case.version == version and _history(case) == 0
        return
    ops.fire_case(case, trigger, actor=k.health, now=now, check_permission=False, **kwargs)
    db.session.flush()  # the CHECK constraints accept the new state with its columns
    db.session.refresh(case)
    assert case.state.value == expected and case.version == version + 1 and _history(case) == 1


# Every workflow of the kernel is bound to a model now: each trigger needs a registered permission.
WORKFLOWS_WITH_MODELS = sorted(WORKFLOWS)


@pytest.mark.parametrize("name", WORKFLOWS_WITH_MODELS)
def test_every_trigger_of_the_workflows_with_models_has_a_permission(app, name):
    missing = [t for t in WORKFLOWS[name].triggers if (name, t) not in TRANSITION_RULES]
    assert missing == []


WHO = {
    "submit": {"intake"}, "confirm_consent": {"intake"}, "refuse_consent": {"intake"},
    "withdraw_consent": {"intake", "coordinator", "lotse"},
    "put_on_agenda": {"coordinator"}, "defer": {"coordinator"}, "assign_lotse": {"coordinator"},
    "request_rereview": {"coordinator", "lotse"}, "close": {"coordinator", "lotse"},
    "hand_over_lotse": {"coordinator", "lotse"},
    "escalate": {"lotse"},  # the coordinator wrote the proposal: a second person confirms
}


def test_who_may_fire_what(kreis_ctx, now):
    k = kreis_ctx
    case = make_case(k, "in_support", now)
    case.lotse_user_id = k.health.id
    actors = {"intake": k.intake, "intake_of_another_agency": k.clinic, "coordinator": k.coordinator,
              "lotse": k.health, "team_member": k.youth, "dpo": k.dpo}
    table = {t: {name for name, actor in actors.items() if may_fire(actor, "case", t, case)} for t in CASE.triggers}
    assert table == WHO
    case.escalation_proposed_by_id = k.health.id
    assert {n for n, a in actors.items() if may_fire(a, "case", "escalate", case)} == {"coordinator"}
    k.health.is_active = False
    assert not may_fire(k.health, "case", "close", case)
