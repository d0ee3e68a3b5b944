"""The agenda: built from the cases ready for review through put_on_agenda, decisions fire the case's triggers."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from consent.scopes import Purpose
from praevcase.cases import operations as case_ops
from praevcase.cases.models import Case
from praevcase.database import utcnow
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Family
from praevcase.privacy.operations import withdraw_consent
from praevcase.privacy.vault import forget_grants
from praevcase.privacy.vault import reveal
from praevcase.sessions import agenda
from praevcase.sessions import operations as ops
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.models import Decision
from praevcase.sessions.models import Presence
from praevcase.sessions.models import SessionAttendee
from praevcase.statemachine import TransitionHistory
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.sessions.conftest import new_session
from tests.praevcase.sessions.conftest import open_ready_case
from workflows.case import CaseState
from workflows.case import ClosingReason
from workflows.review_session import ReviewSessionState


def present(session, chair, *agencies) -> None:
    """The chair records these agencies as present."""
    for attendee in db.session.scalars(sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id)):
        if attendee.agency_id in {a.id for a in agencies}:
            ops.set_presence(session, attendee, Presence.present, actor=chair, now=utcnow())


def _frozen_session_with(team, n: int = 1):
    cases = [open_ready_case(team) for _ in range(n)]
    session = new_session(team)
    agenda.build_agenda(session, actor=team.coordinator, now=utcnow())
    ops.fire_session(session, "freeze_agenda", actor=team.coordinator, now=utcnow())
    present(session, team.coordinator, team.buero, team.gesundheitsamt, team.jugendamt)
    return session, cases


def test_building_the_agenda_puts_ready_cases_on_it_through_put_on_agenda(team_ctx):
    first, second = open_ready_case(team_ctx), open_ready_case(team_ctx)
    session = new_session(team_ctx)
    assert agenda.build_agenda(session, actor=team_ctx.coordinator, now=utcnow()) == 2
    items = list(db.session.scalars(sa.select(AgendaItem).where(AgendaItem.session_id == session.id)
                                    .order_by(AgendaItem.position)))
    assert [i.case_id for i in items] == [first.id, second.id] and [i.position for i in items] == [1, 2]
    for case in (first, second):
        db.session.refresh(case)
        assert case.state is CaseState.on_agenda
        history = db.session.scalars(sa.select(TransitionHistory.trigger).where(
            TransitionHistory.object_id == case.id, TransitionHistory.to_state == "on_agenda")).all()
        assert history == ["put_on_agenda"]
    assert agenda.build_agenda(session, actor=team_ctx.coordinator, now=utcnow()) == 0  # idempotent


def test_a_case_whose_team_consent_lapsed_stays_off_the_agenda(team_ctx):
    case = open_ready_case(team_ctx)
    for rec in db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.family_id == case.family_id)):
        withdraw_consent(rec, via="telefon", actor=team_ctx.intake, now=utcnow() - timedelta(seconds=1))
    forget_grants()
    session = new_session(team_ctx)
    assert agenda.build_agenda(session, actor=team_ctx.coordinator, now=utcnow()) == 0
    assert db.session.get(Case, case.id).state is not CaseState.on_agenda
    assert session.items == []


def test_only_the_chair_builds_and_a_frozen_agenda_is_not_rebuilt(team_ctx):
    open_ready_case(team_ctx)
    session = new_session(team_ctx)
    with pytest.raises(PermissionDenied):
        agenda.build_agenda(session, actor=team_ctx.health, now=utcnow())
    agenda.build_agenda(session, actor=team_ctx.coordinator, now=utcnow())
    ops.fire_session(session, "freeze_agenda", actor=team_ctx.coordinator, now=utcnow())
    open_ready_case(team_ctx)
    with pytest.raises(Conflict):
        agenda.build_agenda(session, actor=team_ctx.coordinator, now=utcnow())
    assert session.ical_sequence == 1 and session.organizer_id == team_ctx.coordinator.id


def test_an_empty_agenda_cannot_be_frozen(team_ctx):
    session = new_session(team_ctx)
    with pytest.raises(Conflict, match="leer"):
        ops.fire_session(session, "freeze_agenda", actor=team_ctx.coordinator, now=utcnow())


def test_removing_an_item_defers_the_case_back_to_ready_for_review(team_ctx):
    case = open_ready_case(team_ctx)
    session = new_session(team_ctx)
    agenda.build_agenda(session, actor=team_ctx.coordinator, now=utcnow())
    item = db.session.scalar(sa.select(AgendaItem).where(AgendaItem.session_id == session.id))
    agenda.remove_item(session, item, actor=team_ctx.coordinator, now=utcnow())
    assert db.session.get(Case, case.id).state is CaseState.ready_for_review
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AgendaItem)) == 0


def test_the_lotse_is_chosen_from_the_members_present(team_ctx):
    session, (case,) = _frozen_session_with(team_ctx)
    item = session.items[0]
    with pytest.raises(InvalidInput):  # the Kita's Präventionskraft is not in the room
        agenda.decide(session, item, {"decision": Decision.assign_lotse, "lotse_user_id": team_ctx.kita_member.id},
                      actor=team_ctx.coordinator, now=utcnow())
    agenda.decide(session, item, {"decision": Decision.assign_lotse, "lotse_user_id": team_ctx.health.id},
                  actor=team_ctx.coordinator, now=utcnow())
    db.session.refresh(case)
    assert case.state is CaseState.in_support and case.lotse_user_id == team_ctx.health.id
    assert item.decision is Decision.assign_lotse and item.lotse_user_id == team_ctx.health.id
    with pytest.raises(Conflict):
        agenda.decide(session, item, {"decision": Decision.defer}, actor=team_ctx.coordinator, now=utcnow())


@pytest.mark.parametrize(("decision", "extra", "state"), [
    (Decision.defer, {}, CaseState.ready_for_review),
    (Decision.close, {"closing_reason": ClosingReason.handed_to_regular_system}, CaseState.closed),
])
def test_each_decision_fires_the_case_trigger_that_goes_with_it(team_ctx, decision, extra, state):
    session, (case,) = _frozen_session_with(team_ctx)
    agenda.decide(session, session.items[0], {"decision": decision, **extra}, actor=team_ctx.coordinator,
                  now=utcnow())
    assert db.session.get(Case, case.id).state is state


def test_a_rereview_keeps_the_case_off_the_agendas_until_its_date(team_ctx):
    session, (case,) = _frozen_session_with(team_ctx)
    later = session.starts_dt.date() + timedelta(days=60)
    agenda.decide(session, session.items[0], {"decision": Decision.rereview, "rereview_date": later},
                  actor=team_ctx.coordinator, now=utcnow())
    assert db.session.get(Case, case.id).state is CaseState.ready_for_review
    next_month = new_session(team_ctx, days_ahead=40)
    assert agenda.build_agenda(next_month, actor=team_ctx.coordinator, now=utcnow()) == 0
    after = new_session(team_ctx, days_ahead=90)
    assert agenda.build_agenda(after, actor=team_ctx.coordinator, now=utcnow()) == 1


def test_an_escalation_decision_records_only_the_proposal_a_second_person_confirms(team_ctx):
    session, (case,) = _frozen_session_with(team_ctx)
    agenda.decide(session, session.items[0], {"decision": Decision.escalate,
                                              "escalated_to_agency_id": team_ctx.jugendamt.id,
                                              "justification": "Gewichtige Anhaltspunkte, im Team besprochen."},
                  actor=team_ctx.coordinator, now=utcnow())
    db.session.refresh(case)
    assert case.state is CaseState.on_agenda and case.escalation_proposed_by_id == team_ctx.coordinator.id
    assert session.items[0].is_settled


def test_minutes_are_final_only_when_every_item_is_decided(team_ctx):
    session, _cases = _frozen_session_with(team_ctx, n=2)
    ops.fire_session(session, "hold", actor=team_ctx.coordinator, now=utcnow())
    assert session.held_dt is not None
    first, second = session.items
    agenda.decide(session, first, {"decision": Decision.defer}, actor=team_ctx.coordinator, now=utcnow())
    with pytest.raises(Conflict, match="Voraussetzungen"):
        ops.fire_session(session, "finalize_minutes", actor=team_ctx.coordinator, now=utcnow())
    case_ops.fire_case(second.case, "close", actor=team_ctx.coordinator, now=utcnow(),
                       closing_reason=ClosingReason.moved)  # left the agenda outside the meeting: settled
    db.session.expire(session, ["items"])
    ops.fire_session(session, "finalize_minutes", actor=team_ctx.coordinator, now=utcnow())
    assert session.state is ReviewSessionState.minutes_final and session.minutes_final_by_id == team_ctx.coordinator.id
    with pytest.raises(Conflict):
        agenda.save_notes(session, first, "Nachtrag", actor=team_ctx.coordinator, now=utcnow())


def test_notes_are_sealed_under_the_family_key_and_read_through_the_vault(team_ctx):
    session, (case,) = _frozen_session_with(team_ctx)
    item = session.items[0]
    agenda.save_notes(session, item, f"Familie {CANARY_FAMILY}: Sprachförderung klären.", actor=team_ctx.coordinator,
                      now=utcnow())
    db.session.flush()
    raw = db.session.execute(sa.text("SELECT notes_ct FROM agenda_items WHERE id = :id"), {"id": item.id}).scalar()
    assert raw and CANARY_FAMILY.encode() not in raw
    family = db.session.get(Family, case.family_id)
    assert CANARY_FAMILY in reveal(family, item, ["notes"], actor=team_ctx.health, purpose=Purpose.team_review,
                                   now=utcnow())["notes"]
    agenda.save_notes(session, item, "Kita-Platz beim Jugendamt anfragen.", mode="append", actor=team_ctx.coordinator,
                      now=utcnow())
    text = reveal(family, item, ["notes"], actor=team_ctx.coordinator, purpose=Purpose.team_review, now=utcnow())
    assert text["notes"].startswith("Familie") and text["notes"].endswith("anfragen.")


def test_cancelling_a_session_sends_its_cases_back_to_ready_for_review(team_ctx):
    case = open_ready_case(team_ctx)
    session = new_session(team_ctx)
    agenda.build_agenda(session, actor=team_ctx.coordinator, now=utcnow())
    ops.fire_session(session, "cancel", actor=team_ctx.coordinator, now=utcnow())
    assert session.state is ReviewSessionState.cancelled and session.ical_sequence == 1
    assert db.session.get(Case, case.id).state is CaseState.ready_for_review
