"""The JSON API skeleton: tokens, problem+json, pagination, OpenAPI."""
from __future__ import annotations

import json

import pytest

from praevcase.accounts.models import Role
from praevcase.accounts.tokens import create_token
from praevcase.accounts.tokens import revoke_token
from praevcase.database import utcnow
from praevcase.extensions import db
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import AgencyFactory
from tests.factories import UserFactory


@pytest.fixture
def admin_token(app):
    with arrange(app):
        admin = UserFactory(roles=[Role.admin, Role.team_member])
        token_row, token = create_token(admin, name="test", scopes={Role.admin}, now=utcnow())
    return {"user": admin, "token": token, "row": token_row,
            "headers": {"Authorization": f"Bearer {token}"}}


def test_me_describes_the_token_owner(client, admin_token):
    body = client.get("/api/v1/me", headers=admin_token["headers"]).json
    assert body["email"] == admin_token["user"].email
    assert body["roles"] == ["admin", "team_member"]


def test_no_token_is_401_problem_json(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "unauthenticated"


def test_session_cookie_does_not_authenticate_the_api(app, client, admin_token):
    login_as(client, app, admin_token["user"])
    assert client.get("/api/v1/me").status_code == 401


def test_garbage_token_is_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer pc_nichtgueltig"})
    assert response.status_code == 401 and response.json["code"] == "unauthenticated"


def test_revoked_token_stops_working_at_once(app, client, admin_token):
    assert client.get("/api/v1/me", headers=admin_token["headers"]).status_code == 200
    with arrange(app):
        revoke_token(db.session.merge(admin_token["row"]), actor=admin_token["user"], now=utcnow())
    assert client.get("/api/v1/me", headers=admin_token["headers"]).status_code == 401


def test_disabled_users_token_stops_working_at_once(app, client, admin_token):
    with arrange(app):
        db.session.merge(admin_token["user"]).is_active = False
    assert client.get("/api/v1/me", headers=admin_token["headers"]).status_code == 401


def test_token_acts_only_with_its_scopes(app, client):
    with arrange(app):
        admin = UserFactory(roles=[Role.admin, Role.intake])
        _, token = create_token(admin, name="nur lesen", scopes={Role.intake}, now=utcnow())
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/agencies/", headers=headers).status_code == 200
    response = client.post("/api/v1/agencies/", json={"name": "Neu", "kind": "kita"}, headers=headers)
    assert response.status_code == 403 and response.json["code"] == "forbidden"


def test_unknown_json_fields_get_422_with_field_messages(client, admin_token):
    response = client.post("/api/v1/agencies/", json={"name": "Kita Regenbogen", "kind": "kita", "color": "rot"},
                           headers=admin_token["headers"])
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "invalid_input"
    assert response.json["errors"] == {"color": ["Unbekanntes Feld."]}


def test_missing_and_invalid_fields_get_german_messages(client, admin_token):
    response = client.post("/api/v1/agencies/", json={"kind": "raumstation"}, headers=admin_token["headers"])
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["name"] == ["Dieses Feld ist ein Pflichtfeld."]
    assert errors["kind"] == ["Bitte einen der angebotenen Werte wählen."]


def test_agency_create_and_paginated_list(client, admin_token):
    created = client.post("/api/v1/agencies/", json={"name": "Kita Regenbogen", "kind": "kita", "sozialraum": "Nord"},
                          headers=admin_token["headers"])
    assert created.status_code == 201 and created.json["kind_label"] == "Kita"
    page = client.get("/api/v1/agencies/?page=1&page_size=1", headers=admin_token["headers"])
    assert len(page.json) == 1
    meta = json.loads(page.headers["X-Pagination"])
    assert meta["total"] == 2 and meta["total_pages"] == 2


def test_openapi_document_lists_the_endpoints_and_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/me", "/api/v1/agencies/", "/api/v1/agencies/{agency_id}"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_agency_names_are_unique_per_tenant_with_a_german_message(client, app, admin_token):
    with arrange(app):
        AgencyFactory(tenant_id=admin_token["user"].tenant_id, name="Kita Doppelt")
    response = client.post("/api/v1/agencies/", json={"name": "Kita Doppelt", "kind": "kita"},
                           headers=admin_token["headers"])
    assert response.status_code == 422
    assert response.json["errors"]["name"] == ["Eine Stelle mit diesem Namen gibt es bereits."]


def test_admin_web_form_shows_field_messages(app, client, admin_token):
    login_as(client, app, admin_token["user"])
    token = get_csrf(client, "/verwaltung/stellen/neu")
    response = client.post("/verwaltung/stellen/neu", data={"csrf_token": token, "name": "", "kind": ""})
    assert response.status_code == 422
    assert "Dieses Feld ist ein Pflichtfeld." in response.get_data(as_text=True)
