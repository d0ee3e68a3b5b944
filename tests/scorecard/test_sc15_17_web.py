"""SC-15 headers/cookies/CSRF on every route, SC-16 authentication, SC-17 session lifecycle."""
from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher

from praevcase.accounts import operations as ops
from praevcase.accounts.models import AuthSession
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.passwords import OWASP_MINIMUM
from praevcase.accounts.passwords import PRODUCTION_PARAMS
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.keys import open_tenant_secret
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import PASSWORD
from tests.factories import UserFactory

ZERO_ID = "00000000-0000-7000-8000-000000000000"


def _concrete(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<uuid:{arg}>", ZERO_ID).replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "x")
    return url


def test_sc15_every_route_has_headers_and_every_form_route_needs_csrf(app, client, scorecard):
    with arrange(app):
        user = UserFactory(roles=list(Role))
    login_as(client, app, user)
    routes = csrf_routes = 0
    for rule in app.url_map.iter_rules():
        url = _concrete(rule)
        if "GET" in rule.methods:
            headers = client.get(url).headers
            csp = headers.get("Content-Security-Policy", "")
            assert all(d in csp for d in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'")), url
            assert headers.get("X-Content-Type-Options") == "nosniff", url
            assert headers.get("Referrer-Policy"), url
            routes += 1
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            assert client.post(url, data={"x": "1"}).status_code == 400, url
            csrf_routes += 1
    cookie = app.test_client().get("/login").headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config.get("SESSION_COOKIE_HTTPONLY") is True
    scorecard("SC-15", "routes_with_headers", f"{routes}/{routes},csrf_enforced={csrf_routes}/{csrf_routes}")


def test_sc16_totp_required_single_use_throttled_and_argon2_strong(app, scorecard):
    with arrange(app):
        users = [UserFactory(roles=[r]) for r in Role]
        for u in users:
            ops.begin_totp_enrolment(u, now=utcnow())
            u.totp_confirmed_dt = utcnow()
    required = 0
    for u in users:
        c = app.test_client()
        response = c.post("/login", data={"csrf_token": get_csrf(c), "email": u.email, "password": PASSWORD})
        assert response.headers["Location"].endswith("/login/code")
        assert c.get("/").status_code == 302
        required += 1
    u = users[0]
    with arrange(app):
        row = db.session.get(User, u.id)
        secret = open_tenant_secret(row.tenant, "users", "totp_secret", row.id, row.totp_secret_ct)
    code = pyotp.TOTP(secret).now()
    outcomes = []
    for _ in range(2):
        c = app.test_client()
        c.post("/login", data={"csrf_token": get_csrf(c), "email": u.email, "password": PASSWORD})
        outcomes.append(c.post("/login/code", data={"csrf_token": get_csrf(c, "/login/code"), "code": code}).status_code)
    assert outcomes == [302, 401]
    c = app.test_client()
    statuses = [c.post("/login", data={"csrf_token": get_csrf(c), "email": users[1].email, "password": "x" * 14}).status_code
                for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert all(PRODUCTION_PARAMS[k] >= OWASP_MINIMUM[k] for k in OWASP_MINIMUM)
    hasher = PasswordHasher(**PRODUCTION_PARAMS)
    stored = hasher.hash("ein-passwort-fuer-die-messung")
    started = time.perf_counter()
    hasher.verify(stored, "ein-passwort-fuer-die-messung")
    verify_ms = (time.perf_counter() - started) * 1000
    scorecard("SC-16", "totp_required", f"{required}/{len(users)},replay_rejected=1,throttled_after=5,"
              f"argon2=t{PRODUCTION_PARAMS['time_cost']}m{PRODUCTION_PARAMS['memory_cost']}p"
              f"{PRODUCTION_PARAMS['parallelism']},verify_ms={verify_ms:.0f}")


def test_sc17_sessions_end_on_logout_disable_idle_and_absolute_timeout(app, scorecard):
    with arrange(app):
        admin = UserFactory(roles=[Role.admin])
        users = [UserFactory(agency=admin.agency, roles=[Role.intake]) for _ in range(4)]
    clients = []
    for u in users:
        c = app.test_client()
        login_as(c, app, u)
        assert c.get("/").status_code == 200
        clients.append(c)
    clients[0].post("/logout", data={"csrf_token": get_csrf(clients[0], "/")})
    with arrange(app):
        ops.set_user_active(db.session.get(User, users[1].id), False, actor=db.session.get(User, admin.id),
                            now=utcnow())
        db.session.execute(sa.update(AuthSession).where(AuthSession.user_id == users[2].id)
                           .values(last_seen_dt=utcnow() - timedelta(minutes=31)))
        db.session.execute(sa.update(AuthSession).where(AuthSession.user_id == users[3].id)
                           .values(expires_dt=utcnow() - timedelta(seconds=1)))
    ended = sum(c.get("/").status_code == 302 for c in clients)
    assert ended == 4
    scorecard("SC-17", "sessions_ended", "4/4(logout,disable,idle,absolute)")
