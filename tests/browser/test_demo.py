"""A person opens the demo in Chromium, signs in as each role and sees that role's start page."""
from __future__ import annotations

import pytest

from praevcase.accounts.models import ROLE_LABELS
from praevcase.demo import DEMO_PASSWORD
from praevcase.demo import LOGINS
from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("login", LOGINS, ids=[lg.role.value for lg in LOGINS])
def test_each_demo_role_signs_in_and_sees_its_german_start_page(page, live_server, login):
    sign_in(page, live_server, login.email, DEMO_PASSWORD)
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Willkommen, {login.name}"
    assert page.get_by_role("heading", name=ROLE_LABELS[login.role]).is_visible()
    assert page.get_by_text("Demo – keine echten Daten").is_visible()
    assert page.locator("html").get_attribute("lang") == "de"
    assert screenshot(page, f"start-{login.role.value}").stat().st_size > 10_000


def test_wrong_password_shows_a_german_message(page, live_server):
    sign_in(page, live_server, LOGINS[0].email, "falsch-falsch-falsch")
    assert page.get_by_role("alert").inner_text().strip() == "E-Mail-Adresse oder Passwort ist falsch."


def test_sign_out_returns_to_the_login_page(page, live_server):
    sign_in(page, live_server, LOGINS[0].email, DEMO_PASSWORD)
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(f"{live_server}/login")
    assert page.get_by_text("Sie wurden abgemeldet.").is_visible()
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
