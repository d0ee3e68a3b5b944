"""Referrals: every (state, trigger) through the binding, the provider guard, who may fire what, sealed notes."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent.scopes import Purpose
from praevcase.cases import operations as case_ops
from praevcase.database import new_id
from praevcase.database import utcnow
from praevcase.errors import Conflict
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.offers.catalogue import OfferType
from praevcase.privacy.models import Family
from praevcase.privacy.vault import reveal
from praevcase.referrals import operations as ops
from praevcase.referrals import queries
from praevcase.referrals.models import Referral
from praevcase.statemachine import TRANSITION_RULES
from praevcase.statemachine import TransitionHistory
from praevcase.statemachine import may_fire
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.sessions.conftest import open_ready_case
from workflows import WORKFLOWS
from workflows.case import ClosingReason
from workflows.referral import ReferralState

REFERRAL = WORKFLOWS["referral"]
STATES = [s.value for s in ReferralState]
#: The expected destination of every pair; a pair not listed must be refused.
ALLOWED = {
    ("proposed", "offer"): "offered", ("offered", "accept"): "accepted", ("offered", "decline"): "declined",
    ("accepted", "request"): "requested", ("requested", "waitlist"): "waitlisted",
    ("requested", "start"): "started", ("waitlisted", "start"): "started", ("started", "complete"): "completed",
    ("started", "drop"): "dropped", ("proposed", "cancel"): "cancelled", ("offered", "cancel"): "cancelled",
    ("accepted", "cancel"): "cancelled", ("requested", "cancel"): "cancelled", ("waitlisted", "cancel"): "cancelled",
}


def supported_case(team):
    """A case in support with the Gesundheitsamt's Präventionskraft as Lotse."""
    case = open_ready_case(team)
    case_ops.fire_case(case, "put_on_agenda", actor=team.coordinator, now=utcnow())
    case_ops.fire_case(case, "assign_lotse", actor=team.coordinator, now=utcnow(), lotse=team.health)
    return case


def referral_in(team, case, state: str) -> Referral:
    now = utcnow()
    cols = {}
    if state in ("requested", "waitlisted", "started", "completed", "dropped"):
        cols["requested_dt"] = now
    if state in ("started", "completed", "dropped"):
        cols["started_dt"] = now
    if state in ("declined", "completed", "dropped", "cancelled"):
        cols["ended_dt"] = now
    referral = Referral(id=new_id(), tenant_id=case.tenant_id, case_id=case.id, offer_id=team.language_offer.id,
                        offer_type=OfferType.sprachfoerderung, provider_agency_id=team.gesundheitsamt.id,
                        state=ReferralState(state), proposed_by_id=team.coordinator.id, created_dt=now, **cols)
    db.session.add(referral)
    db.session.flush()
    return ops.lock_referral(referral.id, team.health)


def test_the_matrix_names_only_real_pairs():
    assert {(e.source.value, e.trigger) for e in REFERRAL.edges} == set(ALLOWED)


@pytest.mark.parametrize("state", STATES)
def test_every_trigger_from_every_state_through_the_binding_on_a_real_row(team_ctx, state):
    """One row per state; each trigger is tried in a savepoint that is rolled back afterwards."""
    case = supported_case(team_ctx)
    referral = referral_in(team_ctx, case, state)
    for trigger in REFERRAL.triggers:
        expected = ALLOWED.get((state, trigger))
        savepoint = db.session.begin_nested()
        if expected is None:
            with pytest.raises(Conflict):
                ops.fire_referral(referral, trigger, actor=team_ctx.health, now=utcnow())
            assert referral.state.value == state and referral.version == 1, trigger
        else:
            ops.fire_referral(referral, trigger, actor=team_ctx.health, now=utcnow(), offer=team_ctx.language_offer)
            db.session.flush()  # the CHECK constraints accept the new state with its dates
            assert referral.state.value == expected and referral.version == 2, trigger
            assert db.session.scalar(sa.select(sa.func.count()).select_from(TransitionHistory).where(
                TransitionHistory.object_id == referral.id)) == 1
        savepoint.rollback()
        db.session.refresh(referral)


def test_a_provider_is_asked_only_once_one_is_named(team_ctx):
    case = supported_case(team_ctx)
    referral = ops.propose(case, offer_type=OfferType.sprachfoerderung, actor=team_ctx.health, now=utcnow())
    for trigger in ("offer", "accept"):
        ops.fire_referral(referral, trigger, actor=team_ctx.health, now=utcnow())
    with pytest.raises(Conflict, match="Voraussetzungen"):
        ops.fire_referral(referral, "request", actor=team_ctx.health, now=utcnow())
    ops.fire_referral(referral, "request", actor=team_ctx.health, now=utcnow(), offer=team_ctx.language_offer)
    assert referral.state is ReferralState.requested and referral.provider_agency_id == team_ctx.gesundheitsamt.id
    assert referral.offer_id == team_ctx.language_offer.id and referral.requested_dt is not None
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.text("UPDATE referrals SET provider_agency_id = NULL, provider_name = NULL "
                                   "WHERE id = :id"), {"id": referral.id})


def test_provider_side_steps_are_the_lotses_and_the_coordinator_may_not_fire_them(team_ctx):
    case = supported_case(team_ctx)
    referral = referral_in(team_ctx, case, "requested")
    assert may_fire(team_ctx.health, "referral", "start", referral)
    assert not may_fire(team_ctx.coordinator, "referral", "start", referral)
    assert may_fire(team_ctx.coordinator, "referral", "cancel", referral)
    for outsider in (team_ctx.youth, team_ctx.intake, team_ctx.dpo):
        assert not any(may_fire(outsider, "referral", t, referral) for t in REFERRAL.triggers)
    with pytest.raises(PermissionDenied):
        ops.fire_referral(referral, "start", actor=team_ctx.coordinator, now=utcnow())
    assert queries.triggers(referral, team_ctx.coordinator, utcnow()) == ["cancel"]


def test_every_referral_trigger_has_a_permission():
    assert [t for t in REFERRAL.triggers if ("referral", t) not in TRANSITION_RULES] == []


def test_proposals_come_from_the_coordinator_or_the_lotse_only(team_ctx):
    case = supported_case(team_ctx)
    with pytest.raises(PermissionDenied):
        ops.propose(case, offer=team_ctx.language_offer, actor=team_ctx.youth, now=utcnow())
    assert ops.propose(case, offer=team_ctx.parents_offer, actor=team_ctx.coordinator, now=utcnow()).provider_name \
        == "Kinderschutzbund Düren"


def test_feedback_and_the_familys_view_are_sealed_and_shown_only_under_the_consent(team_ctx):
    case = supported_case(team_ctx)
    referral = referral_in(team_ctx, case, "started")
    ops.fire_referral(referral, "complete", actor=team_ctx.health, now=utcnow(),
                      provider_feedback=f"{CANARY_FAMILY}: regelmäßig teilgenommen.")
    ops.record_notes(referral, provider_feedback=None, family_view="Das Kind spricht jetzt mehr.",
                     actor=team_ctx.health, now=utcnow())
    db.session.flush()
    raw = db.session.execute(sa.text("SELECT provider_feedback_ct FROM referrals WHERE id = :id"),
                             {"id": referral.id}).scalar()
    assert CANARY_FAMILY.encode() not in raw
    family = db.session.get(Family, case.family_id)
    assert CANARY_FAMILY in reveal(family, referral, ["provider_feedback"], actor=team_ctx.health,
                                   purpose=Purpose.referral, now=utcnow())["provider_feedback"]
    seen = queries.views([referral], team_ctx.youth, utcnow())[0]  # Jugendamt: not named in the consent
    assert seen["provider_feedback"] is None and seen["family_view"] is None and seen["notes_denied"] is not None


def test_once_the_case_is_closed_only_cancel_remains(team_ctx):
    case = supported_case(team_ctx)
    referral = referral_in(team_ctx, case, "accepted")
    case_ops.fire_case(case, "close", actor=team_ctx.health, now=utcnow(), closing_reason=ClosingReason.goals_met)
    with pytest.raises(Conflict, match="Begleitung"):
        ops.fire_referral(referral, "request", actor=team_ctx.health, now=utcnow(), offer=team_ctx.language_offer)
    ops.fire_referral(referral, "cancel", actor=team_ctx.health, now=utcnow())
    assert referral.state is ReferralState.cancelled and referral.ended_dt is not None
