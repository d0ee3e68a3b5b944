"""Fixtures: a real PostgreSQL with the migrations applied once, each test in a rolled-back transaction."""
from __future__ import annotations

import os
import re
from contextlib import ExitStack
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from unittest import mock

import pytest

from tests import pg

TEST_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


@pytest.fixture(scope="session")
def keyring():
    from consent.crypto import Keyring

    return Keyring.generate()


@pytest.fixture(scope="session")
def database_url() -> str:
    """A fresh database for this test process, migrated to head, dropped at the end.

    The name carries the run id, so parallel runs on one server never drop each other's database.
    """
    server = pg.server_url()
    name = pg.run_scoped("praevcase_test")
    url = pg.fresh_database(server, name)
    from flask_migrate import upgrade

    from praevcase import create_app

    app = create_app(_config(url, None))
    with app.app_context():
        upgrade()
        from praevcase.extensions import db

        db.engine.dispose()
    yield url
    pg.drop_database(server, name)


def _config(url: str, keyring, **extra) -> dict:
    from consent.crypto import Keyring

    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "KEYRING": keyring or Keyring.generate(),
        "CHECKPOINT_KEY": b"test-checkpoint-key-of-32-bytes-or-more",
        "CHECKPOINT_FILE": os.devnull,
        "ARGON2_PARAMS": TEST_ARGON2,
        **extra,
    }


@pytest.fixture
def app_config(database_url, keyring):
    """Override in a test module to change the configuration of `app`."""
    return _config(database_url, keyring)


@pytest.fixture
def app(app_config):
    """An app whose sessions all run inside one outer transaction, rolled back after the test."""
    from praevcase import create_app
    from praevcase.extensions import db

    app = create_app(app_config)
    with app.app_context():
        engines = db.engines
    with ExitStack() as stack:
        stack.enter_context(
            mock.patch.dict(db.session.session_factory.kw, {"join_transaction_mode": "create_savepoint"})
        )
        for key, engine in list(engines.items()):
            conn = stack.enter_context(engine.connect())
            outer = conn.begin()
            stack.callback(outer.rollback)
            stack.enter_context(mock.patch.dict(engines, {key: conn}))
        yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def app_ctx(app):
    """An app context whose session may see every tenant (for arranging test data)."""
    from praevcase.extensions import db
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        yield app


@contextmanager
def arrange(app):
    """Arrange data in a short-lived app context (all tenants visible), committed on exit.

    Requests must not run inside an active app context (they would share `g`), so tests build
    their data in these blocks and then use the client outside.
    """
    from praevcase.extensions import db
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        db.session().expire_on_commit = False  # rows stay readable after the block
        yield db.session
        db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def get_csrf(client, path: str = "/login") -> str:
    """Read a CSRF token from a page (the token is bound to the client's session)."""
    return csrf_from(client.get(path).get_data(as_text=True))


def login_as(client, app, user) -> str:
    """Open a server-side session for *user* and put it in the client's cookie (skips the sign-in form)."""
    from praevcase.accounts.operations import start_session
    from praevcase.database import utcnow
    from praevcase.extensions import db
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        token = start_session(db.session.merge(user), now=utcnow(), second_factor="test")
        db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
    return token


def bearer(app, user, roles=None) -> dict[str, str]:
    """Authorization header with a fresh API token of *user* (narrowed to *roles*; outside an app context)."""
    from praevcase.accounts.tokens import create_token
    from praevcase.database import utcnow
    from praevcase.extensions import db

    with arrange(app):
        user = db.session.merge(user)
        _, plaintext = create_token(user, name="test", scopes=set(roles or user.roles), now=utcnow())
    return {"Authorization": f"Bearer {plaintext}"}


# --- scorecard lines (SC-nn PASS|FAIL metric=value), printed at the end of the run ---------------

_SCORECARD: list[tuple[str, bool]] = []


@pytest.fixture
def scorecard(record_property):
    """``scorecard("SC-15", "routes_checked", 24)``: the line is PASS if the test passes."""

    def emit(check: str, metric: str, value) -> None:
        record_property("scorecard", f"{check} {{outcome}} {metric}={value}")

    return emit


def pytest_runtest_logreport(report):
    if report.when == "call":
        for key, value in report.user_properties:
            if key == "scorecard":
                _SCORECARD.append((value, report.passed))


def pytest_terminal_summary(terminalreporter):
    if _SCORECARD:
        terminalreporter.section("scorecard")
        for line, passed in sorted(_SCORECARD):
            terminalreporter.write_line(line.format(outcome="PASS" if passed else "FAIL"))
