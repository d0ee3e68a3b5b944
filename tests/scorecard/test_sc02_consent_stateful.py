"""SC-02 consent gate as a Hypothesis state machine: give / withdraw / advance the clock / expire /
transition the case / reveal, in random order, against a model of the consent rules written here.

Invariants after every step:
- I1/I2: a reveal succeeds exactly when the model says so — the viewer's agency holds the data,
  or an active consent (not withdrawn, not expired) names the viewer's agency, the purpose and the
  category; after a withdrawal or expiry at t no recipient read at a later clock gets through;
- I3: every reveal, granted or denied, queues exactly one ``data.reveal`` audit event, with the
  right outcome;
- I6: the case only moves along edges of the case workflow, and the team-consent steps
  (confirm_consent, put_on_agenda, assign_lotse, request_rereview) only while the model has an
  active team_review consent;
- the audit chain verifies at the end of every example.

The fixed seed (``derandomize=True``) makes the CI run reproducible; the long run uses more examples.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.audit.operations import append_pending
from praevcase.audit.operations import pending_events
from praevcase.audit.verify import verify_app_chains
from praevcase.cases import operations as case_ops
from praevcase.cases.models import Case
from praevcase.errors import Conflict
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.privacy import operations as privacy_ops
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Family
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import ConsentRequired
from praevcase.privacy.vault import forget_grants
from praevcase.privacy.vault import reveal
from praevcase.tenancy import set_scope
from praevcase.tenants.models import AgencyKind
from tests.factories import AgencyFactory
from tests.factories import CaseFactory
from tests.factories import TenantFactory
from tests.factories import UserFactory
from workflows import WORKFLOWS
from workflows.case import ClosingReason

CASE = WORKFLOWS["case"]
EDGES = {(e.source.value, e.trigger, e.dest.value) for e in CASE.edges}
TEAM_CONSENT_TRIGGERS = {"confirm_consent", "put_on_agenda", "assign_lotse", "request_rereview"}
COLUMNS = {"given_name": DataCategory.identity, "address": DataCategory.contact,
           "languages": DataCategory.family_situation}
PURPOSES = [Purpose.team_review, Purpose.lotse_support, Purpose.referral, Purpose.health_data_sharing]
CATEGORIES = [DataCategory.identity, DataCategory.contact, DataCategory.family_situation, DataCategory.health]
CONTENT_BLIND = {Role.admin, Role.dpo, Role.statistics}
STATS: Counter[str] = Counter()
#: Who fires a trigger in step_the_case (praevcase/cases/permissions.py); the Lotse is the Gesundheitsamt
FIRED_BY = {"submit": "intake", "confirm_consent": "intake", "refuse_consent": "intake",
            "hand_over_lotse": "coordinator", "escalate": "coordinator"}


@dataclass
class ModelConsent:
    """What the test itself believes about one consent."""

    record_id: object
    purposes: frozenset
    categories: frozenset
    recipients: frozenset
    valid_from: object
    valid_until: object
    withdrawn_at: object = None
    swept: bool = False  # the expiry sweep set the row's state to expired

    def active(self, now) -> bool:
        return (self.withdrawn_at is None or now < self.withdrawn_at) and \
            (self.valid_until is None or now < self.valid_until) and now >= self.valid_from


def _world(now):
    tenant = TenantFactory()
    agencies = {k: AgencyFactory(tenant=tenant, kind=k) for k in (
        AgencyKind.jobcenter, AgencyKind.gesundheitsamt, AgencyKind.kita, AgencyKind.praeventionsbuero)}
    holder = agencies[AgencyKind.jobcenter]
    users = {
        "intake": UserFactory(agency=holder, roles=[Role.intake]),
        "health": UserFactory(agency=agencies[AgencyKind.gesundheitsamt], roles=[Role.team_member]),
        "kita": UserFactory(agency=agencies[AgencyKind.kita], roles=[Role.team_member]),
        "coordinator": UserFactory(agency=agencies[AgencyKind.praeventionsbuero], roles=[Role.coordinator]),
        "dpo": UserFactory(agency=agencies[AgencyKind.praeventionsbuero], roles=[Role.dpo]),
    }
    set_scope(db.session, tenant.id)
    case = CaseFactory(opened_by=users["intake"], four_eyes_required=False)
    family = db.session.get(Family, case.family_id)
    person = privacy_ops.add_person(family, role=PersonRole.guardian, given_name="Kanaria", family_name="Zustand",
                                    birth_date=now.date() - timedelta(days=30 * 365), address="Weg 1",
                                    phone="0", languages="Deutsch", has_custody=True, now=now)
    template = privacy_ops.create_template(tenant, key="sc02", version=1, language="de", title="E", body="B",
                                           plain_body="P", purpose_texts={p.value: p.value for p in Purpose},
                                           actor=users["intake"], now=now)
    db.session.flush()
    return {"agencies": agencies, "users": users, "case": case, "family": family, "person": person,
            "template": template, "holder": holder}


def _machine(world, start):
    users = world["users"]

    class ConsentGate(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = db.session.begin_nested()
            self.now = start
            self.consents: list[ModelConsent] = []
            self.case = db.session.get(Case, world["case"].id)
            forget_grants()

        def teardown(self):
            append_pending(db.session)
            report = verify_app_chains(db.session, tenant_id=world["holder"].tenant_id)
            assert report.intact, [c.result for c in report.chains]
            self.savepoint.rollback()
            db.session.expire_all()
            forget_grants()

        def _allowed(self, user, purpose, category) -> bool:
            roles = set(user.roles)
            if roles <= CONTENT_BLIND:
                return False
            if user.agency_id == world["holder"].id:
                return True
            return any(c.active(self.now) and user.agency_id in c.recipients and purpose in c.purposes
                       and category in c.categories for c in self.consents)

        @initialize()
        def submit_the_case(self):
            case_ops.fire_case(self.case, "submit", actor=users["intake"], now=self.now)

        @rule(purposes=st.sets(st.sampled_from(PURPOSES), min_size=1),
              categories=st.sets(st.sampled_from(CATEGORIES), min_size=1),
              recipients=st.sets(st.sampled_from(["health", "kita", "coordinator"]), min_size=1),
              days=st.one_of(st.none(), st.integers(1, 60)))
        def give(self, purposes, categories, recipients, days):
            agency_ids = {users[r].agency_id for r in recipients}
            until = None if days is None else self.now + timedelta(days=days)
            rec = privacy_ops.record_consent(
                world["family"], template=world["template"], purposes=purposes, categories=categories,
                recipient_agency_ids=agency_ids, signatories=[{"person_id": world["person"].id}],
                channel=ConsentChannel.written, actor=users["intake"], now=self.now, valid_until=until)
            self.consents.append(ModelConsent(rec.id, frozenset(purposes), frozenset(categories),
                                              frozenset(agency_ids), self.now, until))

        @precondition(lambda self: self.consents)
        @rule(data=st.data(), by=st.sampled_from(["intake", "health", "coordinator", "dpo"]))
        def withdraw(self, data, by):
            model = data.draw(st.sampled_from(self.consents))
            rec = db.session.get(ConsentRecord, model.record_id)
            case_before = self.case.state.value
            try:
                privacy_ops.withdraw_consent(rec, via="oral", actor=users[by], now=self.now)
            except Conflict:
                assert not model.active(self.now) or rec.state != "active"
                return
            assert model.withdrawn_at is None
            model.withdrawn_at = self.now
            if case_before != self.case.state.value:  # no team consent left: the case closed ...
                assert self.case.state.value == "closed"
                self._case_withdrawn()  # ... and withdrew the team consents whose rows were still active
            STATS["withdrawals"] += 1

        @rule(hours=st.integers(1, 24 * 40))
        def advance_clock(self, hours):
            self.now += timedelta(hours=hours)

        @rule()
        def expire(self):
            privacy_ops.expire_due_consents(now=self.now)
            for model in self.consents:
                rec = db.session.get(ConsentRecord, model.record_id)
                if model.valid_until is not None and model.valid_until <= self.now and model.withdrawn_at is None:
                    assert rec.state == "expired", (rec.state, model)
                    model.swept = True

        @rule(trigger=st.sampled_from(CASE.triggers),
              by=st.sampled_from(["intake", "health", "coordinator", "kita", "dpo"]))
        def transition(self, trigger, by):
            self._fire(trigger, by)

        @rule(data=st.data())
        def step_the_case(self, data):
            """A trigger of the current state, fired by the role the case permissions name for it."""
            state = self.case.state.value
            triggers = sorted({t for s, t, _ in EDGES if s == state})
            if not triggers:
                return
            trigger = data.draw(st.sampled_from(triggers))
            self._fire(trigger, FIRED_BY.get(trigger, "coordinator"))

        def _case_withdrawn(self):
            """The parents withdrew at the case: every team consent whose row is still active ends now."""
            for model in self.consents:
                if model.withdrawn_at is None and not model.swept and Purpose.team_review in model.purposes:
                    model.withdrawn_at = self.now

        def _fire(self, trigger, by):
            before = self.case.state.value
            kwargs = {}
            if trigger == "close":
                kwargs["closing_reason"] = ClosingReason.goals_met
            if trigger in ("assign_lotse", "hand_over_lotse"):
                kwargs["lotse"] = users["health"]
            team_consent = any(c.active(self.now) and Purpose.team_review in c.purposes for c in self.consents)
            try:
                case_ops.fire_case(self.case, trigger, actor=users[by], now=self.now, **kwargs)
            except (Conflict, PermissionDenied):
                assert self.case.state.value == before
                return
            after = self.case.state.value
            assert (before, trigger, after) in EDGES, (before, trigger, after)
            if trigger == "withdraw_consent":
                self._case_withdrawn()
            if trigger in TEAM_CONSENT_TRIGGERS:
                assert team_consent, f"{trigger} went through without an active team consent"
            STATS["transitions"] += 1

        @rule(by=st.sampled_from(["intake", "health", "kita", "coordinator", "dpo"]),
              column=st.sampled_from(sorted(COLUMNS)), purpose=st.sampled_from(PURPOSES))
        def read(self, by, column, purpose):
            user = users[by]
            expected = self._allowed(user, purpose, COLUMNS[column])
            before = [e for e in pending_events(db.session) if e["action"] == "data.reveal"]
            try:
                values = reveal(world["family"], world["person"], [column], actor=user, purpose=purpose, now=self.now)
                granted = True
            except ConsentRequired:
                values, granted = None, False
            events = [e for e in pending_events(db.session) if e["action"] == "data.reveal"][len(before):]
            assert granted == expected, (by, column, purpose, self.now, self.consents)
            assert len(events) == 1, events
            assert events[0]["outcome"] == ("granted" if granted else "denied")
            assert events[0]["actor_user_id"] == user.id and events[0]["occurred_dt"] == self.now
            if granted:
                assert values[column] is not None
            STATS["granted" if granted else "denied"] += 1

        @invariant()
        def case_state_is_a_workflow_state(self):
            assert self.case.state in set(CASE.states)

    return ConsentGate


def _run(app_ctx, now, scorecard, *, examples: int, steps: int, check: str):
    STATS.clear()
    world = _world(now)
    machine = _machine(world, now)
    total = {"examples": 0}
    original_init = machine.__init__

    def counting_init(self):
        original_init(self)
        total["examples"] += 1

    machine.__init__ = counting_init
    run_state_machine_as_test(machine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], database=None))
    assert STATS["granted"] and STATS["denied"] and STATS["withdrawals"] and STATS["transitions"]
    scorecard(check, "examples", f"{total['examples']},max_steps={steps},invariant_failures=0,"
              f"reads_granted={STATS['granted']},reads_denied={STATS['denied']},"
              f"withdrawals={STATS['withdrawals']},transitions={STATS['transitions']},audit_events_per_read=1")


def test_sc02_random_consent_case_and_reveal_sequences_never_let_a_forbidden_read_through(
        app_ctx, now, scorecard):
    _run(app_ctx, now, scorecard, examples=60, steps=30, check="SC-02")


@pytest.mark.long
def test_sc02_long_run_300_examples_of_50_steps(app_ctx, now, scorecard):
    _run(app_ctx, now, scorecard, examples=300, steps=50, check="SC-02-long")
