"""Sign-in, second factor, sessions and CSRF: tests that try to get in where they should not."""
from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from praevcase.accounts import operations as ops
from praevcase.accounts.models import AuthSession
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.keys import open_tenant_secret
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import PASSWORD
from tests.factories import AgencyFactory
from tests.factories import TenantFactory
from tests.factories import UserFactory


@pytest.fixture
def staff(app):
    """A staff member of a real (non-demo) tenant with a confirmed authenticator."""
    with arrange(app):
        user = UserFactory(roles=[Role.team_member])
        ops.begin_totp_enrolment(user, now=utcnow())
        user.totp_confirmed_dt = utcnow()
    return user.id


def _secret(app, user_id) -> str:
    with arrange(app):
        user = db.session.get(User, user_id)
        return open_tenant_secret(user.tenant, "users", "totp_secret", user.id, user.totp_secret_ct), user.email


def _password_step(client, email, password=PASSWORD):
    token = get_csrf(client)
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


def _code_step(client, code):
    token = get_csrf(client, "/login/code")
    return client.post("/login/code", data={"csrf_token": token, "code": code})


def test_wrong_password_gets_a_german_message_and_no_session(app, client, staff):
    _, email = _secret(app, staff)
    response = _password_step(client, email, "falsches-passwort-123")
    assert response.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_account_gets_the_same_message_as_a_wrong_password(app, client, staff):
    response = _password_step(client, "niemand@example.org")
    assert response.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.get_data(as_text=True)


def test_full_sign_in_with_totp_reaches_the_german_start_page(app, client, staff):
    secret, email = _secret(app, staff)
    assert _password_step(client, email).headers["Location"].endswith("/login/code")
    response = _code_step(client, pyotp.TOTP(secret).now())
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Willkommen" in page and "Präventionskraft" in page


def test_wrong_totp_code_is_refused_with_a_german_message(app, client, staff):
    secret, email = _secret(app, staff)
    _password_step(client, email)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    response = _code_step(client, wrong)
    assert response.status_code == 401
    assert "Der Code ist nicht gültig" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_replayed_totp_code_is_refused(app, client, staff):
    secret, email = _secret(app, staff)
    code = pyotp.TOTP(secret).now()
    _password_step(client, email)
    assert _code_step(client, code).status_code == 302
    other = app.test_client()
    _password_step(other, email)
    response = _code_step(other, code)
    assert response.status_code == 401
    assert other.get("/").status_code == 302


def test_password_alone_never_opens_a_session_for_staff(app, client, staff):
    _, email = _secret(app, staff)
    _password_step(client, email)
    assert client.get("/").status_code == 302
    with arrange(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthSession)) == 0


def test_first_sign_in_enrols_totp_with_qr_code_and_recovery_codes(app, client):
    with arrange(app):
        user = UserFactory(roles=[Role.intake])
        email, user_id = user.email, user.id
    assert _password_step(client, email).headers["Location"].endswith("/login/setup")
    page = client.get("/login/setup").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page
    secret, _ = _secret(app, user_id)
    token = get_csrf(client, "/login/setup")
    response = client.post("/login/setup", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    body = response.get_data(as_text=True)
    assert "Wiederherstellungscodes" in body
    codes = [c for c in __import__("re").findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", body)]
    assert len(codes) == 10
    assert client.get("/").status_code == 200


def test_recovery_code_works_once(app, client, staff):
    with arrange(app):
        user = db.session.get(User, staff)
        codes = ops.new_recovery_codes(user, now=utcnow())
        email = user.email
    _password_step(client, email)
    token = get_csrf(client, "/login/code")
    assert client.post("/login/code", data={"csrf_token": token, "recovery_code": codes[0]}).status_code == 302
    other = app.test_client()
    _password_step(other, email)
    token = get_csrf(other, "/login/code")
    assert other.post("/login/code", data={"csrf_token": token, "recovery_code": codes[0]}).status_code == 401


def test_demo_tenant_may_skip_the_second_factor_and_shows_the_banner(app, client):
    with arrange(app):
        tenant = TenantFactory(is_demo=True)
        email = UserFactory(agency=AgencyFactory(tenant=tenant), roles=[Role.coordinator]).email
    assert _password_step(client, email).headers["Location"].endswith("/")
    assert "Demo – keine echten Daten" in client.get("/").get_data(as_text=True)


def test_throttling_after_five_wrong_passwords(app, client, staff):
    _, email = _secret(app, staff)
    for _ in range(5):
        assert _password_step(client, email, "falsches-passwort-123").status_code == 401
    response = _password_step(client, email)  # even the right password now waits
    assert response.status_code == 429
    assert "Zu viele Fehlversuche" in response.get_data(as_text=True)


def test_missing_csrf_token_is_refused_with_a_german_message(app, client, staff):
    _, email = _secret(app, staff)
    client.get("/login")
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Das Formular ist abgelaufen oder ungültig" in response.get_data(as_text=True)


def test_logout_ends_the_session_server_side(app, client):
    with arrange(app):
        user = UserFactory()
    login_as(client, app, user)
    stolen = client.get_cookie("praevcase_session").value
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": get_csrf(client, "/")})
    replay = app.test_client()
    replay.set_cookie("praevcase_session", stolen)
    assert replay.get("/").status_code == 302


def test_idle_session_expires(app, client):
    with arrange(app):
        user = UserFactory()
    login_as(client, app, user)
    with arrange(app):
        db.session.execute(sa.update(AuthSession).values(last_seen_dt=utcnow() - timedelta(minutes=31)))
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Ihre Sitzung ist abgelaufen" in client.get("/login").get_data(as_text=True)


def test_absolute_session_lifetime_ends_even_an_active_session(app, client):
    with arrange(app):
        user = UserFactory()
    login_as(client, app, user)
    with arrange(app):
        db.session.execute(sa.update(AuthSession).values(expires_dt=utcnow() - timedelta(seconds=1)))
    assert client.get("/").status_code == 302


def test_disabling_a_user_kills_the_open_session_at_once(app, client):
    with arrange(app):
        admin = UserFactory(roles=[Role.admin])
        victim = UserFactory(agency=admin.agency, roles=[Role.intake])
    victim_client = app.test_client()
    login_as(victim_client, app, victim)
    assert victim_client.get("/").status_code == 200
    login_as(client, app, admin)
    token = get_csrf(client, "/verwaltung/benutzer")
    assert client.post(f"/verwaltung/benutzer/{victim.id}/status",
                       data={"csrf_token": token, "active": "0"}).status_code == 302
    assert victim_client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(app, client, staff):
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_new_session_id_on_sign_in(app, client, staff):
    secret, email = _secret(app, staff)
    client.get("/login")
    before = client.get_cookie("praevcase_session").value
    _password_step(client, email)
    _code_step(client, pyotp.TOTP(secret).now())
    assert client.get_cookie("praevcase_session").value != before


def test_admin_sets_a_new_password_and_the_users_sessions_end(app, client):
    with arrange(app):
        admin = UserFactory(roles=[Role.admin])
        user = UserFactory(agency=admin.agency, roles=[Role.intake])
    victim = app.test_client()
    login_as(victim, app, user)
    login_as(client, app, admin)
    token = get_csrf(client, f"/verwaltung/benutzer/{user.id}")
    weak = client.post(f"/verwaltung/benutzer/{user.id}/passwort", data={"csrf_token": token, "password": "kurz"})
    assert weak.status_code == 422 and "mindestens 12 Zeichen" in weak.get_data(as_text=True)
    response = client.post(f"/verwaltung/benutzer/{user.id}/passwort",
                           data={"csrf_token": token, "password": "ein-neues-langes-passwort"})
    assert response.status_code == 302
    assert victim.get("/").status_code == 302
    assert _password_step(app.test_client(), user.email, "ein-neues-langes-passwort").status_code == 302
