"""The state column changes only through fire(); refusals change nothing; stale forms get 409."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from praevcase.audit.operations import pending_events
from praevcase.cases import operations as ops
from praevcase.cases.models import Case
from praevcase.errors import Conflict
from praevcase.errors import StaleObject
from praevcase.extensions import db
from praevcase.statemachine import TransitionHistory
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import CaseFactory
from tests.factories import FamilyFactory
from tests.praevcase.cases.conftest import jobcenter_payload
from workflows.case import CaseState


def _history(case_id) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TransitionHistory)
                             .where(TransitionHistory.object_id == case_id))


def test_assigning_the_state_column_directly_raises(kreis_ctx):
    case = CaseFactory(opened_by=kreis_ctx.intake,
                       family=FamilyFactory(tenant_id=kreis_ctx.tenant.id, holder_agency_id=kreis_ctx.jobcenter.id))
    with pytest.raises(AttributeError, match="workflow transition"):
        case.state = CaseState.ready_for_review
    assert case.state is CaseState.draft


def test_a_failing_guard_leaves_state_history_audit_and_version_untouched(kreis_ctx, now):
    k = kreis_ctx
    case = CaseFactory(opened_by=k.intake, family=FamilyFactory(tenant_id=k.tenant.id, holder_agency_id=k.jobcenter.id),
                       state=CaseState.consent_pending)
    events_before, version = len(pending_events(db.session)), case.version
    with pytest.raises(Conflict) as refused:  # no consent naming the team's purpose
        ops.fire_case(case, "confirm_consent", actor=k.intake, now=now)
    assert refused.value.code == "transition_refused" and "Voraussetzungen fehlen" in refused.value.message
    db.session.flush()
    db.session.refresh(case)
    assert case.state is CaseState.consent_pending and case.version == version and case.reached_team_dt is None
    assert _history(case.id) == 0 and len(pending_events(db.session)) == events_before


def test_a_closing_without_reason_is_refused_by_the_guard_and_by_the_database(kreis_ctx, now):
    k = kreis_ctx
    case = CaseFactory(opened_by=k.intake, family=FamilyFactory(tenant_id=k.tenant.id, holder_agency_id=k.jobcenter.id),
                       state=CaseState.ready_for_review, reached_team_dt=now)
    with pytest.raises(Conflict):
        ops.fire_case(case, "close", actor=k.coordinator, now=now)
    assert case.state is CaseState.ready_for_review
    for sql in ("UPDATE cases SET state = 'closed' WHERE id = :id",
                "UPDATE cases SET state = 'in_support' WHERE id = :id",
                "UPDATE cases SET state = 'escalated', escalated_dt = now() WHERE id = :id",
                "UPDATE cases SET reached_team_dt = NULL WHERE id = :id",
                "UPDATE cases SET state = 'gibt_es_nicht' WHERE id = :id"):
        with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
            db.session.execute(sa.text(sql), {"id": case.id})


def test_stale_version_is_refused_before_anything_changes(kreis_ctx, now):
    k = kreis_ctx
    case = CaseFactory(opened_by=k.intake, family=FamilyFactory(tenant_id=k.tenant.id, holder_agency_id=k.jobcenter.id),
                       state=CaseState.on_agenda, reached_team_dt=now, version=4)
    with pytest.raises(StaleObject) as stale:
        ops.fire_case(case, "defer", actor=k.coordinator, now=now, expected_version=3)
    assert "Jemand anderes hat diesen Fall inzwischen geändert" in stale.value.message
    assert case.state is CaseState.on_agenda and case.version == 4


def _opened(client, kreis) -> dict:
    body = client.post("/api/v1/cases/intake/jobcenter", json=jobcenter_payload(kreis),
                       headers=kreis.token(kreis.intake)).json
    assert body["state"] == "ready_for_review"
    return body


def test_a_stale_form_gets_a_german_409_page_and_changes_nothing(app, client, kreis):
    case = _opened(client, kreis)
    login_as(client, app, kreis.coordinator)
    page = client.get(f"/faelle/{case['id']}").get_data(as_text=True)
    assert "Auf die Tagesordnung setzen" in page and f'name="version" value="{case["version"]}"' in page
    token = get_csrf(client, f"/faelle/{case['id']}")
    ok = client.post(f"/faelle/{case['id']}/aktion", data={"csrf_token": token, "trigger": "put_on_agenda",
                                                             "version": case["version"]})
    assert ok.status_code == 302
    again = client.post(f"/faelle/{case['id']}/aktion", data={"csrf_token": token, "trigger": "defer",
                                                                "version": case["version"]})
    assert again.status_code == 409
    assert "Jemand anderes hat diesen Fall inzwischen geändert" in again.get_data(as_text=True)
    with arrange(app):
        row = db.session.get(Case, case["id"])
        assert row.state is CaseState.on_agenda and row.version == case["version"] + 1
        assert _history(row.id) == 3  # submit, confirm_consent, put_on_agenda


def test_api_stale_and_refused_transitions_are_409_problem_json(app, client, kreis):
    case = _opened(client, kreis)
    headers = kreis.token(kreis.coordinator)
    url = f"/api/v1/cases/{case['id']}/transitions"
    refused = client.post(url, json={"trigger": "defer", "version": case["version"]}, headers=headers)
    assert refused.status_code == 409 and refused.json["code"] == "transition_refused"
    assert refused.mimetype == "application/problem+json"
    ok = client.post(url, json={"trigger": "put_on_agenda", "version": case["version"]}, headers=headers)
    assert ok.status_code == 200 and ok.json["state"] == "on_agenda"
    stale = client.post(url, json={"trigger": "defer", "version": case["version"]}, headers=headers)
    assert stale.status_code == 409 and stale.json["code"] == "stale"
    forbidden = client.post(url, json={"trigger": "defer", "version": ok.json["version"]},
                            headers=kreis.token(kreis.intake))
    assert forbidden.status_code == 403


def test_buttons_are_the_permitted_triggers_of_the_viewer(app, client, kreis):
    case = _opened(client, kreis)
    coordinator = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.coordinator)).json
    assert coordinator["permitted_triggers"] == ["put_on_agenda", "close", "withdraw_consent"]
    intake = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.intake)).json
    assert intake["permitted_triggers"] == ["withdraw_consent"]
    member = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.health)).json
    assert member["permitted_triggers"] == []
