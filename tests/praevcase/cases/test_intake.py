"""The intake channels: each opens a case with sealed answers, consent and the right first state."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from consent.scopes import DataCategory
from praevcase.audit.models import AuditEvent
from praevcase.cases.models import Case
from praevcase.cases.models import CaseIntake
from praevcase.extensions import db
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Person
from praevcase.privacy.vault import FIELD_CATEGORIES
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.cases.conftest import birth_clinic_payload
from tests.praevcase.cases.conftest import general_payload
from tests.praevcase.cases.conftest import jobcenter_payload
from tests.praevcase.cases.conftest import kita_payload


def _case(app, case_id) -> Case:
    with arrange(app):
        return db.session.get(Case, case_id)


@pytest.mark.parametrize(("path", "payload", "channel", "column"), [
    ("jobcenter", jobcenter_payload, "jobcenter_observation", "situation_answers_ct"),
    ("kita-exam", kita_payload, "kita_entry_exam", "health_answers_ct"),
    ("general", general_payload, "welcome_visit", "situation_answers_ct"),
])
def test_each_channel_opens_a_case_that_goes_to_the_team_with_consent(app, client, kreis, path, payload, channel,
                                                                       column):
    headers = kreis.token(kreis.intake)
    response = client.post(f"/api/v1/cases/intake/{path}", json=payload(kreis), headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["state"] == "ready_for_review" and body["channel"] == channel
    assert body["case_number"].startswith("TK-") and body["version"] == 3
    with arrange(app):
        intake = db.session.scalar(sa.select(CaseIntake).where(CaseIntake.case_id == body["id"]))
        assert getattr(intake, column) is not None
        persons = db.session.scalars(sa.select(Person).join(Case, Case.family_id == Person.family_id)
                                     .where(Case.id == body["id"])).all()
        assert len(persons) == 2 and all(CANARY_FAMILY.encode() not in (p.family_name_ct or b"") for p in persons)
        rec = db.session.scalar(sa.select(ConsentRecord).join(Case, Case.family_id == ConsentRecord.family_id)
                                .where(Case.id == body["id"]))
        guardian = next(p for p in persons if p.role.value == "guardian")
        assert rec.purposes[0] == "lotse_support" or "team_review" in rec.purposes
        assert rec.signatories == [{"person_id": str(guardian.id), "role": "custody_holder"}]
        assert rec.channel.value == "written"


def test_health_answers_are_health_and_observations_family_situation():
    assert FIELD_CATEGORIES[("case_intakes", "health_answers")] is DataCategory.health
    assert FIELD_CATEGORIES[("case_intakes", "situation_answers")] is DataCategory.family_situation
    assert FIELD_CATEGORIES[("case_intakes", "observation")] is DataCategory.family_situation
    assert FIELD_CATEGORIES[("cases", "escalation_justification")] is DataCategory.case_notes


def test_birth_clinic_screening_waits_for_a_second_professional_of_the_same_agency(app, client, kreis):
    response = client.post("/api/v1/cases/intake/birth-clinic", json=birth_clinic_payload(kreis),
                           headers=kreis.token(kreis.clinic))
    assert response.status_code == 201
    case = response.json
    assert case["state"] == "consent_pending" and case["four_eyes_required"] is True
    assert case["case_number"]  # the pseudonymous number exists at once
    url = f"/api/v1/cases/{case['id']}/intake-confirmation"
    same = client.post(url, json={"version": case["version"]}, headers=kreis.token(kreis.clinic))
    assert same.status_code == 403
    other_agency = client.post(url, json={"version": case["version"]}, headers=kreis.token(kreis.intake))
    assert other_agency.status_code == 404  # the Jobcenter does not even see the clinic's case
    confirmed = client.post(url, json={"version": case["version"]}, headers=kreis.token(kreis.clinic2))
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["state"] == "ready_for_review"
    row = _case(app, case["id"])
    assert row.intake_confirmed_by_id == kreis.clinic2.id


def test_refused_consent_closes_the_case_inside_the_agency(app, client, kreis):
    payload = jobcenter_payload(kreis, consent={"status": "refused"})
    body = client.post("/api/v1/cases/intake/jobcenter", json=payload, headers=kreis.token(kreis.intake)).json
    assert body["state"] == "closed" and body["closing_reason"] == "family_declined"
    assert body["reached_team_dt"] is None
    coordinator = client.get(f"/api/v1/cases/{body['id']}", headers=kreis.token(kreis.coordinator))
    assert coordinator.status_code == 404  # nothing left the agency
    with arrange(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 0


def test_pending_consent_keeps_the_case_and_is_recorded_later(app, client, kreis):
    payload = jobcenter_payload(kreis, consent={"status": "pending"})
    body = client.post("/api/v1/cases/intake/jobcenter", json=payload, headers=kreis.token(kreis.intake)).json
    assert body["state"] == "consent_pending"
    later = {**jobcenter_payload(kreis)["consent"], "version": body["version"]}
    response = client.post(f"/api/v1/cases/{body['id']}/consent", json=later, headers=kreis.token(kreis.intake))
    assert response.status_code == 200, response.json
    assert response.json["state"] == "ready_for_review"


def test_possible_duplicate_is_offered_without_showing_the_other_family(app, client, kreis):
    first = client.post("/api/v1/cases/intake/jobcenter", json=jobcenter_payload(kreis),
                        headers=kreis.token(kreis.intake)).json
    again = client.post("/api/v1/cases/intake/kita-exam",
                        json=kita_payload(kreis, children=jobcenter_payload(kreis)["children"]),
                        headers=kreis.token(kreis.clinic))
    assert again.status_code == 409 and again.json["code"] == "possible_duplicate"
    assert again.json["errors"]["possible_duplicates"] == [{"family_id": None, "case_number": None,
                                                            "attachable": False}]
    assert CANARY_FAMILY not in again.get_data(as_text=True)
    own = client.post("/api/v1/cases/intake/jobcenter", json=jobcenter_payload(kreis),
                      headers=kreis.token(kreis.intake2))
    candidate = own.json["errors"]["possible_duplicates"][0]
    assert candidate["attachable"] is True and candidate["case_number"] == first["case_number"]
    attached = client.post("/api/v1/cases/intake/jobcenter",
                           json=jobcenter_payload(kreis, duplicate_choice=candidate["family_id"]),
                           headers=kreis.token(kreis.intake2))
    assert attached.status_code == 201 and attached.json["case_number"] == first["case_number"]
    new = client.post("/api/v1/cases/intake/kita-exam",
                      json=kita_payload(kreis, children=jobcenter_payload(kreis)["children"], duplicate_choice="new"),
                      headers=kreis.token(kreis.clinic))
    assert new.status_code == 201 and new.json["case_number"] != first["case_number"]


def test_intake_form_opens_a_case_and_shows_the_case_number(app, client, kreis):
    login_as(client, app, kreis.intake)
    token = get_csrf(client, "/faelle/neu/jobcenter")
    form = {"csrf_token": token, "children-0-given_name": "Emre", "children-0-family_name": "Testfall",
            "children-0-birth_date": jobcenter_payload(kreis)["children"][0]["birth_date"],
            "guardians-0-given_name": "Ayşe", "guardians-0-family_name": "Testfall",
            "guardians-0-has_custody": "1", "needs": ["kita_platz"], "beyond_own_remit": "1",
            "team_summary": "Kind, 5 Jahre, ohne Kita-Platz.", "observed_on": jobcenter_payload(kreis)["observed_on"],
            "child_has_daycare": "nein", "german_language": "keine", "consent-status": "given",
            "consent-template_id": str(kreis.template.id), "consent-purposes": ["team_review"],
            "consent-categories": ["identity"], "consent-recipient_agency_ids": [str(kreis.buero.id)],
            "consent-channel": "written"}
    response = client.post("/faelle/neu/jobcenter", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bereit für das Schnittstellengespräch" in page and "Emre" in page
    with arrange(app):
        events = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "case.open" in events and "case.transition" in events and "consent.give" in events
    assert json.dumps(events).count("data.reveal") >= 1


def test_the_parents_decision_is_recorded_later_on_the_consent_page(app, client, kreis):
    payload = jobcenter_payload(kreis, consent={"status": "pending"})
    case = client.post("/api/v1/cases/intake/jobcenter", json=payload, headers=kreis.token(kreis.intake)).json
    login_as(client, app, kreis.intake)
    html = client.get(f"/faelle/{case['id']}").get_data(as_text=True)
    assert "Einwilligung erfassen" in html
    token = get_csrf(client, f"/faelle/{case['id']}/einwilligung")
    incomplete = client.post(f"/faelle/{case['id']}/einwilligung", data={
        "csrf_token": token, "version": case["version"], "consent-status": "given"})
    assert incomplete.status_code == 422 and "Bitte den Einwilligungstext wählen" in incomplete.get_data(as_text=True)
    done = client.post(f"/faelle/{case['id']}/einwilligung", data={
        "csrf_token": token, "version": case["version"], "consent-status": "given",
        "consent-template_id": str(kreis.template.id), "consent-purposes": ["team_review"],
        "consent-categories": ["identity"], "consent-recipient_agency_ids": [str(kreis.buero.id)],
        "consent-channel": "written"})
    assert done.status_code == 302
    assert _case(app, case["id"]).state.value == "ready_for_review"
    assert client.get(f"/faelle/{case['id']}/einwilligung").status_code == 409
    login_as(client, app, kreis.coordinator)
    assert client.get(f"/faelle/{case['id']}/einwilligung").status_code == 403


def test_the_openapi_document_lists_the_case_operations(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/cases/", "/api/v1/cases/{case_id}", "/api/v1/cases/intake/jobcenter",
                 "/api/v1/cases/intake/birth-clinic", "/api/v1/cases/intake/kita-exam", "/api/v1/cases/intake/general",
                 "/api/v1/cases/{case_id}/transitions", "/api/v1/cases/{case_id}/consent",
                 "/api/v1/cases/{case_id}/intake-confirmation", "/api/v1/cases/{case_id}/escalation-proposal"):
        assert path in paths, path
    assert "409" in paths["/api/v1/cases/{case_id}/transitions"]["post"]["responses"]
