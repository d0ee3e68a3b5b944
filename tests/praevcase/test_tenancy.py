"""Tenant isolation: a mechanism, tried from the outside on every admin page and API endpoint."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.tokens import create_token
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.tenancy import TenantMismatch
from praevcase.tenancy import TenantScopeMissing
from praevcase.tenancy import set_scope
from praevcase.tenants.models import Agency
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import AgencyFactory
from tests.factories import UserFactory


@pytest.fixture
def two_tenants(app):
    """Admin A in tenant A; an agency and a user in tenant B."""
    with arrange(app):
        admin_a = UserFactory(roles=[Role.admin])
        agency_b = AgencyFactory(name="Geheime Stelle B")
        user_b = UserFactory(agency=agency_b, roles=[Role.intake], display_name="Bea Beispiel")
        _, token_a = create_token(admin_a, name="t", scopes={Role.admin}, now=utcnow())
    return {"admin_a": admin_a, "agency_b": agency_b, "user_b": user_b, "token_a": token_a}


def test_query_without_tenant_scope_fails_closed(app):
    with app.app_context(), pytest.raises(TenantScopeMissing):
        db.session.scalars(sa.select(Agency)).all()


def test_scoped_session_never_returns_another_tenants_rows(app, two_tenants):
    with app.app_context():
        set_scope(db.session, two_tenants["admin_a"].tenant_id)
        names = db.session.scalars(sa.select(Agency.name)).all()
        assert "Geheime Stelle B" not in names
        assert db.session.get(Agency, two_tenants["agency_b"].id) is None
        assert db.session.get(User, two_tenants["user_b"].id) is None


def test_writing_a_row_of_another_tenant_is_refused(app, two_tenants):
    with app.app_context():
        set_scope(db.session, two_tenants["admin_a"].tenant_id)
        db.session.add(Agency(tenant_id=two_tenants["agency_b"].tenant_id, name="x", kind="jobcenter",
                              created_dt=utcnow()))
        with pytest.raises(TenantMismatch):
            db.session.flush()


@pytest.mark.parametrize("path", ["/verwaltung/stellen/{agency_b}", "/verwaltung/benutzer/{user_b}"])
def test_admin_pages_answer_404_for_another_tenants_ids(app, client, two_tenants, path):
    login_as(client, app, two_tenants["admin_a"])
    url = path.format(agency_b=two_tenants["agency_b"].id, user_b=two_tenants["user_b"].id)
    assert client.get(url).status_code == 404
    token = get_csrf(client, "/verwaltung/stellen")
    data = {"csrf_token": token, "name": "Übernommen", "kind": "kita", "display_name": "Übernommen",
            "agency_id": str(two_tenants["admin_a"].agency_id), "roles": "intake", "is_active": "true"}
    assert client.post(url, data=data).status_code == 404


@pytest.mark.parametrize("action", ["status", "zweiter-faktor"])
def test_admin_actions_on_another_tenants_user_answer_404(app, client, two_tenants, action):
    login_as(client, app, two_tenants["admin_a"])
    token = get_csrf(client, "/verwaltung/benutzer")
    response = client.post(f"/verwaltung/benutzer/{two_tenants['user_b'].id}/{action}",
                           data={"csrf_token": token, "active": "0"})
    assert response.status_code == 404
    with arrange(app):
        assert db.session.get(User, two_tenants["user_b"].id).is_active


def test_admin_lists_show_only_the_own_tenant(app, client, two_tenants):
    login_as(client, app, two_tenants["admin_a"])
    assert "Geheime Stelle B" not in client.get("/verwaltung/stellen").get_data(as_text=True)
    assert "Bea Beispiel" not in client.get("/verwaltung/benutzer").get_data(as_text=True)


def test_api_answers_404_for_another_tenants_agency(app, client, two_tenants):
    headers = {"Authorization": f"Bearer {two_tenants['token_a']}"}
    response = client.get(f"/api/v1/agencies/{two_tenants['agency_b'].id}", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "not_found"
    body = {"name": "Übernommen", "kind": "kita"}
    assert client.put(f"/api/v1/agencies/{two_tenants['agency_b'].id}", json=body, headers=headers).status_code == 404
    listed = client.get("/api/v1/agencies/?page_size=100", headers=headers).json
    assert "Geheime Stelle B" not in {a["name"] for a in listed}


def _other_tenant_ids(app, two_tenants):
    from praevcase.accounts.models import ApiToken

    with arrange(app):
        _, _ = create_token(two_tenants["user_b"], name="b", scopes={Role.intake}, now=utcnow())
        token_b = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == two_tenants["user_b"].id))
    return {"agency_id": two_tenants["agency_b"].id, "user_id": two_tenants["user_b"].id, "token_id": token_b}


def _urls(app, ids, *, api: bool):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") != api or not rule.arguments:
            continue
        if not set(rule.arguments) <= set(ids):
            continue  # routes of later features are walked by their own tests
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<uuid:{arg}>", str(ids[arg]))
        yield rule, url


def test_every_web_route_with_an_id_answers_404_for_another_tenants_objects(app, client, two_tenants):
    ids = _other_tenant_ids(app, two_tenants)
    login_as(client, app, two_tenants["admin_a"])
    token = get_csrf(client, "/verwaltung/stellen")
    checked = 0
    for rule, url in _urls(app, ids, api=False):
        if "GET" in rule.methods:
            assert client.get(url).status_code == 404, url
        if "POST" in rule.methods:
            assert client.post(url, data={"csrf_token": token, "active": "0"}).status_code == 404, url
        checked += 1
    assert checked >= 6


def test_every_api_route_with_an_id_answers_404_for_another_tenants_objects(app, client, two_tenants):
    ids = _other_tenant_ids(app, two_tenants)
    headers = {"Authorization": f"Bearer {two_tenants['token_a']}"}
    checked = 0
    for rule, url in _urls(app, ids, api=True):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            body = {"name": "Übernommen", "kind": "kita"} if method in ("PUT", "POST") else None
            response = client.open(url, method=method, json=body, headers=headers)
            assert response.status_code == 404, (method, url)
            checked += 1
    assert checked >= 2
