"""The embedded default really works: SQLite, migrations, demo tenant, sign-in."""
from __future__ import annotations

import re

import pytest

from praevcase import create_app
from praevcase.demo import DEMO_PASSWORD
from praevcase.demo import LOGINS


@pytest.fixture
def sqlite_app(monkeypatch, tmp_path):
    for key in list(__import__("os").environ):
        if key.startswith("PRAEVCASE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PRAEVCASE_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Demo-Mandant angelegt" in result.output
    assert runner.invoke(args=["demo", "load"]).output.startswith("Demo-Mandant vorhanden")
    return app


def test_sqlite_default_boots_and_every_demo_role_signs_in_to_a_german_start_page(sqlite_app):
    assert sqlite_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    for login in LOGINS:
        client = sqlite_app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"csrf_token": token, "email": login.email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, login.email
        home = client.get("/").get_data(as_text=True)
        assert "Willkommen" in home and "Demo – keine echten Daten" in home, login.email
        assert login.name in home
