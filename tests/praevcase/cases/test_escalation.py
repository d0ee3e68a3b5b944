"""Escalation under § 8a SGB VIII: four eyes, a written justification, access for the Jugendamt only."""
from __future__ import annotations

import sqlalchemy as sa

from praevcase.audit.models import AuditEvent
from praevcase.cases.models import Case
from praevcase.extensions import db
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.cases.conftest import jobcenter_payload

JUSTIFICATION = "Wiederholte Hämatome am Arm, Kind wirkt verängstigt, Mutter berichtet von Gewalt."


def _in_support(client, kreis) -> dict:
    case = client.post("/api/v1/cases/intake/jobcenter", json=jobcenter_payload(kreis),
                       headers=kreis.token(kreis.intake)).json
    headers, url = kreis.token(kreis.coordinator), f"/api/v1/cases/{case['id']}/transitions"
    v = client.post(url, json={"trigger": "put_on_agenda", "version": case["version"]}, headers=headers).json
    return client.post(url, json={"trigger": "assign_lotse", "version": v["version"],
                                  "lotse_user_id": str(kreis.health.id)}, headers=headers).json


def test_escalation_needs_a_second_person_and_records_the_legal_basis(app, client, kreis):
    case = _in_support(client, kreis)
    coordinator = kreis.token(kreis.coordinator)
    proposal = {"version": case["version"], "escalated_to_agency_id": str(kreis.jugendamt.id),
                "justification": JUSTIFICATION}
    for user in (kreis.intake, kreis.kita_member):
        response = client.post(f"/api/v1/cases/{case['id']}/escalation-proposal", json=proposal,
                               headers=kreis.token(user))
        assert response.status_code in (403, 404)
    proposed = client.post(f"/api/v1/cases/{case['id']}/escalation-proposal", json=proposal, headers=coordinator)
    assert proposed.status_code == 200 and proposed.json["state"] == "in_support"
    url = f"/api/v1/cases/{case['id']}/transitions"
    body = {"trigger": "escalate", "version": proposed.json["version"]}
    assert client.post(url, json=body, headers=coordinator).status_code == 403  # not the proposer
    done = client.post(url, json=body, headers=kreis.token(kreis.health))  # the Lotse confirms
    assert done.status_code == 200 and done.json["state"] == "escalated"
    with arrange(app):
        row = db.session.get(Case, case["id"])
        assert row.escalation_legal_basis == "child_welfare_8a" and row.escalated_by_id == kreis.health.id
        assert JUSTIFICATION.encode() not in row.escalation_justification_ct
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "case.transition",
                                                              AuditEvent.object_id == case["id"])
                                  .order_by(AuditEvent.id.desc()))
        assert event.details["trigger"] == "escalate" and event.details["legal_basis"] == "child_welfare_8a"


def test_after_escalation_only_the_jugendamt_reads_under_8a(app, client, kreis):
    case = _in_support(client, kreis)
    proposed = client.post(f"/api/v1/cases/{case['id']}/escalation-proposal", headers=kreis.token(kreis.health),
                           json={"version": case["version"], "escalated_to_agency_id": str(kreis.jugendamt.id),
                                 "justification": JUSTIFICATION}).json
    before = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.youth)).json
    assert {p["denied"] for p in before["persons"]} == {"agency_not_named"}  # not yet: still the consent path
    client.post(f"/api/v1/cases/{case['id']}/transitions", headers=kreis.token(kreis.coordinator),
                json={"trigger": "escalate", "version": proposed["version"]})
    youth = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.youth)).json
    assert youth["state"] == "escalated"
    assert {p["family_name"] for p in youth["persons"]} == {CANARY_FAMILY}
    assert youth["escalation_justification"] == JUSTIFICATION
    team = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.kita_member)).json
    assert team["persons"] is None and team["escalation_justification"] is None
    with arrange(app):
        bases = set(db.session.scalars(sa.select(AuditEvent.legal_basis).where(
            AuditEvent.action == "data.reveal", AuditEvent.actor_user_id == kreis.youth.id,
            AuditEvent.outcome == "granted")))
    assert bases == {"child_welfare_8a"}
    html = client.get("/api/v1/cases/", headers=kreis.token(kreis.youth)).json
    assert case["id"] in {c["id"] for c in html}


def test_escalation_proposal_is_checked(app, client, kreis):
    case = _in_support(client, kreis)
    url = f"/api/v1/cases/{case['id']}/escalation-proposal"
    headers = kreis.token(kreis.coordinator)
    wrong = client.post(url, headers=headers, json={"version": case["version"], "justification": JUSTIFICATION,
                                                    "escalated_to_agency_id": str(kreis.gesundheitsamt.id)})
    assert wrong.status_code == 422 and "escalated_to_agency_id" in wrong.json["errors"]
    short = client.post(url, headers=headers, json={"version": case["version"], "justification": "zu kurz",
                                                    "escalated_to_agency_id": str(kreis.jugendamt.id)})
    assert short.status_code == 422 and "justification" in short.json["errors"]


def test_escalation_through_the_pages(app, client, kreis):
    case = _in_support(client, kreis)
    login_as(client, app, kreis.coordinator)
    html = client.get(f"/faelle/{case['id']}").get_data(as_text=True)
    assert "Gewichtige Anhaltspunkte" in html and "An das Jugendamt übergeben" not in html
    token = get_csrf(client, f"/faelle/{case['id']}")
    response = client.post(f"/faelle/{case['id']}/gefaehrdung", data={
        "csrf_token": token, "version": case["version"], "escalated_to_agency_id": str(kreis.jugendamt.id),
        "justification": JUSTIFICATION})
    assert response.status_code == 302
    login_as(client, app, kreis.health)
    html = client.get(f"/faelle/{case['id']}").get_data(as_text=True)
    assert "An das Jugendamt übergeben (§ 8a SGB VIII)" in html and JUSTIFICATION in html
    token = get_csrf(client, f"/faelle/{case['id']}")
    response = client.post(f"/faelle/{case['id']}/aktion", data={"csrf_token": token, "trigger": "escalate",
                                                                  "version": case["version"] + 1})
    assert response.status_code == 302
    html = client.get(f"/faelle/{case['id']}").get_data(as_text=True)
    assert "Übergeben nach § 8a SGB VIII" in html and "Angaben zur Familie sind hier nicht mehr sichtbar" in html
