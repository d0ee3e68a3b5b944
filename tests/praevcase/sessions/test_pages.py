"""The session pages end to end with their forms: plan, agenda, meeting (presence, notes, offers, decision),
minutes; who may do what; the team page; the API in the OpenAPI document."""
from __future__ import annotations

import re

import sqlalchemy as sa

from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.referrals.models import Referral
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.sessions.models import TeamSeat
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.sessions.conftest import attached
from tests.praevcase.sessions.conftest import open_ready_case
from workflows.case import CaseState
from workflows.referral import ReferralState
from workflows.review_session import ReviewSessionState


def _post(client, url, token, **data):
    response = client.post(url, data={"csrf_token": token, **data})
    assert response.status_code == 302, (url, response.status_code, response.get_data(as_text=True)[-1500:])
    return response


def test_the_chair_runs_a_session_from_the_agenda_to_final_minutes(app, client, team):
    with arrange(app):
        case = open_ready_case(attached(team))
    login_as(client, app, team.coordinator)
    token = get_csrf(client, "/sitzungen/")
    _post(client, "/sitzungen/erzeugen", token, months="3")
    with arrange(app):
        session = db.session.scalars(sa.select(ReviewSession).order_by(ReviewSession.starts_dt)).first()
        assert session.cadence_day is not None and session.starts_dt.astimezone().weekday() in range(7)
    s = f"/sitzungen/{session.id}"
    assert "1 Fall bereit" in client.get(s).get_data(as_text=True)
    _post(client, f"{s}/tagesordnung", token)
    _post(client, f"{s}/aktion", token, trigger="freeze_agenda", version=str(session.version))
    html = client.get(f"{s}/moderation").get_data(as_text=True)
    assert 'href="/static/sessions/meeting.css"' in html and "Kollegiale Beratung" in html
    with arrange(app):
        attendees = {a.agency_id: a.id for a in db.session.scalars(
            sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id))}
        item_id = db.session.get(ReviewSession, session.id).items[0].id
    for agency in (team.buero, team.gesundheitsamt):
        response = _post(client, f"{s}/anwesenheit/{attendees[agency.id]}", token, presence="present", next="meeting",
                         punkt="1")
        assert "/moderation?punkt=1" in response.location
    _post(client, f"{s}/punkte/{item_id}/notizen", token, notes="Sprachförderung und Kita-Platz.", mode="replace",
          next="meeting")
    _post(client, f"{s}/punkte/{item_id}/vorschlag", token, offer_id=str(team.language_offer.id), next="meeting")
    html = client.get(f"{s}/moderation?punkt=1").get_data(as_text=True)
    assert "Sprachförderung und Kita-Platz." in html and "Sprachförderung vor der Einschulung" in html
    assert re.search(rf'<option value="{team.health.id}">', html)  # present: a Lotse candidate
    assert f'<option value="{team.youth.id}">' not in html  # not present
    _post(client, f"{s}/punkte/{item_id}/entscheidung", token, decision="assign_lotse",
          lotse_user_id=str(team.health.id), next="meeting")
    with arrange(app):
        version = db.session.get(ReviewSession, session.id).version
    _post(client, f"{s}/aktion", token, trigger="hold", version=str(version), next="meeting")
    _post(client, f"{s}/aktion", token, trigger="finalize_minutes", version=str(version + 1))
    with arrange(app):
        assert db.session.get(ReviewSession, session.id).state is ReviewSessionState.minutes_final
        assert db.session.get(Case, case.id).state is CaseState.in_support
        assert db.session.scalar(sa.select(Referral.state)) is ReferralState.proposed
    minutes = client.get(f"{s}/protokoll").get_data(as_text=True)
    assert "Lotsin/Lotse zugewiesen" in minutes and team.health.display_name in minutes
    assert "Abgeschlossen am" in minutes and "Sprachförderung vor der Einschulung" in minutes
    pdf = client.get(f"{s}/protokoll.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_team_members_read_sessions_but_do_not_run_them(app, client, team):
    with arrange(app):
        open_ready_case(attached(team))
    login_as(client, app, team.coordinator)
    token = get_csrf(client, "/sitzungen/")
    _post(client, "/sitzungen/erzeugen", token, months="1")
    with arrange(app):
        session = db.session.scalars(sa.select(ReviewSession)).first()
    login_as(client, app, team.health)
    assert client.get(f"/sitzungen/{session.id}").status_code == 200
    assert client.get(f"/sitzungen/{session.id}/moderation").status_code == 403
    token = get_csrf(client, "/sitzungen/")
    assert client.post(f"/sitzungen/{session.id}/tagesordnung", data={"csrf_token": token}).status_code == 403
    assert client.get("/sitzungen/team").status_code == 403
    login_as(client, app, team.intake)
    assert client.get("/sitzungen/").status_code == 403


def test_the_coordinator_keeps_the_team_list(app, client, team):
    login_as(client, app, team.coordinator)
    token = get_csrf(client, "/sitzungen/team")
    _post(client, "/sitzungen/team", token, agency_id=str(team.klinik.id))
    wrong = client.post("/sitzungen/team", data={"csrf_token": token, "agency_id": str(team.jobcenter.id),
                                                 "user_id": str(team.health.id)})
    assert wrong.status_code == 422  # a Präventionskraft of another agency
    with arrange(app):
        seat = db.session.scalar(sa.select(TeamSeat).where(TeamSeat.agency_id == team.klinik.id))
        assert seat is not None and seat.user_id is None
    _post(client, f"/sitzungen/team/{seat.id}/entfernen", token)
    assert team.klinik.name not in client.get("/sitzungen/team").get_data(as_text=True).split("Stelle aufnehmen")[0]


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/sessions/", "/api/v1/sessions/{session_id}", "/api/v1/sessions/{session_id}/agenda",
                 "/api/v1/sessions/{session_id}/agenda/{item_id}/decision", "/api/v1/sessions/{session_id}/minutes",
                 "/api/v1/sessions/{session_id}/invitation.ics", "/api/v1/offers/", "/api/v1/offers/{offer_id}",
                 "/api/v1/referrals/", "/api/v1/referrals/{referral_id}/transitions", "/api/v1/contacts/",
                 "/api/v1/contacts/families", "/api/v1/sessions/team", "/api/v1/sessions/calendar-feed"):
        assert path in paths, path


def test_the_api_runs_the_same_session(app, client, team):
    with arrange(app):
        open_ready_case(attached(team))
    chair = team.token(team.coordinator)
    created = client.post("/api/v1/sessions/generate", json={"months": 2}, headers=chair)
    assert created.status_code == 201 and created.json
    sid = created.json[0]["id"]
    built = client.post(f"/api/v1/sessions/{sid}/agenda", headers=chair).json
    assert len(built["agenda"]) == 1 and built["agenda"][0]["names"]["children"]
    fired = client.post(f"/api/v1/sessions/{sid}/transitions", json={"trigger": "freeze_agenda",
                                                                     "version": built["version"]}, headers=chair)
    assert fired.status_code == 200 and fired.json["ical_sequence"] == 1
    detail = client.get(f"/api/v1/sessions/{sid}", headers=chair).json
    gesundheitsamt = next(a for a in detail["attendees"] if a["agency_id"] == str(team.gesundheitsamt.id))
    client.put(f"/api/v1/sessions/{sid}/attendees/{gesundheitsamt['id']}", json={"presence": "present"},
               headers=chair)
    item = detail["agenda"][0]["id"]
    proposal = client.post(f"/api/v1/sessions/{sid}/agenda/{item}/proposals",
                           json={"offer_id": str(team.language_offer.id)}, headers=chair)
    assert proposal.status_code == 201 and proposal.json["state"] == "proposed"
    decided = client.post(f"/api/v1/sessions/{sid}/agenda/{item}/decision",
                          json={"decision": "assign_lotse", "lotse_user_id": str(team.health.id)}, headers=chair)
    assert decided.status_code == 200 and decided.json["case_state"] == "in_support"
    stale = client.post(f"/api/v1/sessions/{sid}/transitions", json={"trigger": "hold", "version": 1}, headers=chair)
    assert stale.status_code == 409 and stale.json["code"] == "stale"
    refused = client.post(f"/api/v1/sessions/{sid}/transitions", json={"trigger": "finalize_minutes",
                                                                        "version": fired.json["version"]},
                          headers=chair)
    assert refused.status_code == 409 and refused.json["code"] == "transition_refused"
    minutes = client.get(f"/api/v1/sessions/{sid}/minutes", headers=chair).json
    assert minutes["agenda"][0]["decision"] == "assign_lotse" and minutes["agenda"][0]["names"] is None
    lotse = team.token(team.health)
    rid = proposal.json["id"]
    for trigger in ("offer", "accept", "request", "start", "complete"):
        version = client.get(f"/api/v1/referrals/{rid}", headers=lotse).json["version"]
        step = client.post(f"/api/v1/referrals/{rid}/transitions", json={"trigger": trigger, "version": version},
                           headers=lotse)
        assert step.status_code == 200, step.json
    assert client.get(f"/api/v1/referrals/{rid}", headers=lotse).json["state"] == "completed"
    assert client.post("/api/v1/sessions/generate", json={"months": 2}, headers=lotse).status_code == 403
