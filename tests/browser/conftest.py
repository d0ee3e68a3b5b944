"""A live praevcase on the embedded default (SQLite + demo tenant) and the system Chromium."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "tmp" / "screenshots"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """Serve the demo on 127.0.0.1 from a thread; yields the base URL."""
    from praevcase import create_app

    instance = tmp_path_factory.mktemp("instance")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PRAEVCASE_")}
    os.environ["PRAEVCASE_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app()
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["demo", "load"]).exit_code == 0
    finally:
        os.environ.pop("PRAEVCASE_INSTANCE_PATH", None)
        os.environ.update(saved)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true and no Chromium at /usr/bin/chromium (.ci/run installs it)")
        pytest.skip("no system Chromium installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Weiter").click()
