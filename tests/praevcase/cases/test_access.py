"""Who sees what: tenants, agencies not named in the consent, the Lotse, the lists per role."""
from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.audit.models import AuditEvent
from praevcase.cases import queries
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.tenancy import set_scope
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import UserFactory
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.cases.conftest import CANARY_GIVEN
from tests.praevcase.cases.conftest import build_kreis
from tests.praevcase.cases.conftest import consent_block
from tests.praevcase.cases.conftest import jobcenter_payload
from tests.praevcase.cases.conftest import kita_payload

DENIED = "Einwilligung deckt Ihre Stelle nicht ab"


def _open(client, kreis, payload=None, user=None) -> dict:
    response = client.post("/api/v1/cases/intake/jobcenter", json=payload or jobcenter_payload(kreis),
                           headers=kreis.token(user or kreis.intake))
    assert response.status_code == 201, response.json
    return response.json


def _page(app, client, user, url) -> str:
    login_as(client, app, user)
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_another_tenants_case_is_404_on_every_page_and_endpoint(app, client, kreis):
    case = _open(client, kreis)
    with arrange(app):
        other = build_kreis(db.session)
        other.app = app
    ids = {"case_id": case["id"]}
    login_as(client, app, other.coordinator)
    token = get_csrf(client, "/faelle/")
    headers = other.token(other.coordinator)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "case_id" not in rule.arguments:
            continue
        url = rule.rule.replace("<uuid:case_id>", ids["case_id"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if url.startswith("/api/"):
                body = {"trigger": "put_on_agenda", "version": case["version"], "status": "refused"}
                response = client.open(url, method=method, json=body if method == "POST" else None, headers=headers)
                assert response.mimetype == "application/problem+json", url
            else:
                body = {"csrf_token": token, "trigger": "put_on_agenda", "version": case["version"]}
                response = client.open(url, method=method, data=body if method == "POST" else None)
            assert response.status_code == 404, (method, url)
            assert CANARY_FAMILY not in response.get_data(as_text=True)
            checked += 1
    assert checked >= 10
    listed = client.get("/api/v1/cases/", headers=headers).json
    assert listed == []
    with arrange(app):
        assert db.session.get(Case, case["id"]).version == case["version"]


def test_an_agency_not_named_in_the_consent_sees_no_names(app, client, kreis):
    case = _open(client, kreis)  # consent names Präventionsbüro and Gesundheitsamt
    for user in (kreis.youth, kreis.kita_member):
        html = _page(app, client, user, f"/faelle/{case['id']}")
        assert CANARY_GIVEN not in html and CANARY_FAMILY not in html and DENIED in html
        assert "Kind, 5 Jahre, kein Kita-Platz" in html  # the team summary is for the whole team
        body = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(user)).json
        assert CANARY_FAMILY not in str(body)
        assert {p["denied"] for p in body["persons"]} == {"agency_not_named"}
        assert body["answers"]["denied"] == "agency_not_named" and body["answers"]["values"] is None
    named = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.health)).json
    assert {p["family_name"] for p in named["persons"]} == {CANARY_FAMILY}
    assert all(p.get("address") is None and p["denied"] is None for p in named["persons"])  # contact: Lotse only
    assert named["answers"]["values"]["family_language"] == "Türkisch"
    with arrange(app):
        outcomes = db.session.execute(sa.select(AuditEvent.outcome, AuditEvent.reason).where(
            AuditEvent.action == "data.reveal", AuditEvent.actor_user_id == kreis.youth.id)).all()
    assert outcomes and {o for o, _ in outcomes} == {"denied"}


def test_health_answers_need_the_health_purpose_even_for_a_named_agency(app, client, kreis):
    consent = consent_block(kreis)  # no health_data_sharing, no health category
    payload = kita_payload(kreis, consent=consent)
    case = client.post("/api/v1/cases/intake/kita-exam", json=payload, headers=kreis.token(kreis.intake)).json
    body = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.health)).json
    assert {p["family_name"] for p in body["persons"]} == {CANARY_FAMILY}
    assert body["answers"]["category"] == "health" and body["answers"]["values"] is None
    assert body["answers"]["denied"] in ("purpose_not_covered", "category_not_covered")
    own = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.intake)).json
    assert own["answers"]["values"]["hearing"] == "auffaellig"


def test_the_lotse_sees_contact_data_and_the_family_in_its_list(app, client, kreis):
    case = _open(client, kreis)
    coordinator = kreis.token(kreis.coordinator)
    url = f"/api/v1/cases/{case['id']}/transitions"
    v = client.post(url, json={"trigger": "put_on_agenda", "version": case["version"]}, headers=coordinator).json
    v = client.post(url, json={"trigger": "assign_lotse", "version": v["version"],
                               "lotse_user_id": str(kreis.health.id)}, headers=coordinator).json
    assert v["state"] == "in_support" and v["lotse_user_id"] == str(kreis.health.id)
    body = client.get(f"/api/v1/cases/{case['id']}", headers=kreis.token(kreis.health)).json
    guardian = next(p for p in body["persons"] if p["role"] == "guardian")
    assert guardian["address"] == "Rurstraße 1, 52349 Düren" and guardian["phone"] == "0170 1234567"
    html = _page(app, client, kreis.health, "/faelle/")
    assert "Meine Familien (Lotsin/Lotse)" in html and case["case_number"] in html
    assert "Lotsin/Lotse wechseln" in _page(app, client, kreis.health, f"/faelle/{case['id']}")
    bad = client.post(url, json={"trigger": "hand_over_lotse", "version": v["version"],
                                 "lotse_user_id": str(kreis.coordinator.id)}, headers=coordinator)
    assert bad.status_code == 422 and "lotse_user_id" in bad.json["errors"]


def test_lists_per_role(app, client, kreis):
    ready = _open(client, kreis)
    pending = _open(client, kreis, jobcenter_payload(
        kreis, consent={"status": "pending"},
        children=[{"given_name": "Ole", "family_name": "Andersfall", "birth_date": "2022-01-01"}]))
    intake_html = _page(app, client, kreis.intake, "/faelle/")
    assert ready["case_number"] in intake_html and pending["case_number"] in intake_html
    coordinator_html = _page(app, client, kreis.coordinator, "/faelle/")
    assert ready["case_number"] in coordinator_html and pending["case_number"] not in coordinator_html
    assert CANARY_FAMILY not in coordinator_html  # lists are pseudonymous
    clinic_html = _page(app, client, kreis.clinic, "/faelle/")
    assert ready["case_number"] not in clinic_html
    api = client.get("/api/v1/cases/?state=consent_pending", headers=kreis.token(kreis.intake)).json
    assert [c["case_number"] for c in api] == [pending["case_number"]]
    for role in (Role.dpo, Role.admin, Role.statistics, Role.school_staff):
        with arrange(app):
            user = UserFactory(agency=db.session.merge(kreis.jobcenter), roles=[role])
        login_as(client, app, user)
        assert client.get("/faelle/").status_code == 403
        assert client.get(f"/faelle/{ready['id']}").status_code == 403


def test_the_sql_and_python_visibility_rules_agree(app, client, kreis):
    cases = [_open(client, kreis), _open(client, kreis, jobcenter_payload(
        kreis, consent={"status": "refused"},
        children=[{"given_name": "Ole", "family_name": "Andersfall", "birth_date": "2022-01-01"}]))]
    with arrange(app):
        set_scope(db.session, kreis.tenant.id)
        users = [db.session.merge(u) for u in (kreis.intake, kreis.clinic, kreis.coordinator, kreis.health,
                                               kreis.youth, kreis.dpo)]
        rows = [db.session.get(Case, c["id"]) for c in cases]
        for user, case in itertools.product(users, rows):
            in_sql = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
                Case.id == case.id, queries.visible_clause(user)))
            assert bool(in_sql) == queries.can_see(user, case), (user, case)


@pytest.mark.parametrize("path", ["/faelle/neu", "/faelle/neu/jobcenter", "/faelle/neu/geburtsklinik",
                                  "/faelle/neu/kita-untersuchung", "/faelle/neu/weitere"])
def test_intake_pages_are_german_forms_for_intake_only(app, client, kreis, path):
    html = _page(app, client, kreis.intake, path)
    assert "<html lang=\"de\">" in html and "Neuen Fall aufnehmen" in html or "Neuer Fall" in html
    login_as(client, app, kreis.coordinator)
    assert client.get(path).status_code == 403
