"""The reports on the embedded default (SQLite with the demo tenant): every page and export answers."""
from __future__ import annotations

import os
import re

import pytest

from praevcase import create_app
from praevcase.demo import DEMO_PASSWORD
from praevcase.demo import LOGINS


@pytest.fixture
def sqlite_client(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("PRAEVCASE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PRAEVCASE_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    client = app.test_client()
    login = next(x for x in LOGINS if x.email.startswith("statistik@"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"csrf_token": token, "email": login.email,
                                       "password": DEMO_PASSWORD}).status_code == 302
    return client


def test_every_report_page_and_export_works_on_sqlite(sqlite_client):
    for page in ("fallfluss", "sozialraum", "luecken", "nachhaltigkeit", "uebergaenge"):
        for query in ("", "?period=2026&sozialraum=-"):
            for suffix in ("", ".csv", ".pdf"):
                response = sqlite_client.get(f"/berichte/{page}{suffix}{query}")
                assert response.status_code == 200, (page, suffix, query)
    for path in ("/berichte/sachbericht", "/berichte/sachbericht.pdf", "/berichte/erreichung",
                 "/berichte/erreichung.csv"):
        assert sqlite_client.get(path).status_code == 200, path
    assert "Werte unter k=5" in sqlite_client.get("/berichte/fallfluss").get_data(as_text=True)
