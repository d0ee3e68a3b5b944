"""A Jobcenter professional opens a case in Chromium: from the form to "ready for review"."""
from __future__ import annotations

import re
from datetime import date
from datetime import timedelta

import pytest

from praevcase.demo import DEMO_PASSWORD
from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_jobcenter_intake_from_the_form_to_ready_for_review(page, live_server):
    sign_in(page, live_server, "erstkontakt@demo.praevcase.test", DEMO_PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.get_by_role("link", name="Neuen Fall aufnehmen").first.click()
    page.get_by_role("link", name="Beobachtung im Jobcenter").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Beobachtung im Jobcenter"

    field = lambda name: page.locator(f'[name="{name}"]')  # noqa: E731 - five children/adult slots share labels
    today = date.today()
    field("observed_on").fill((today - timedelta(days=1)).isoformat())
    page.locator('input[name="child_has_daycare"][value="nein"]').check()
    page.locator('input[name="german_language"][value="keine"]').check()
    field("family_language").fill("Türkisch")
    page.get_by_label("Sprach- und Kulturmittlung wird gebraucht").check()
    page.get_by_label("Was haben Sie wahrgenommen?").fill("Die Mutter kommt mit dem Kind zu Terminen am Vormittag.")
    field("children-0-given_name").fill("Yusuf")
    field("children-0-family_name").fill("Demofall")
    field("children-0-birth_date").fill((today - timedelta(days=5 * 365 + 30)).isoformat())
    field("guardians-0-given_name").fill("Elif")
    field("guardians-0-family_name").fill("Demofall")
    field("guardians-0-address").fill("Musterweg 9, 52349 Düren")
    field("guardians-0-has_custody").check()
    page.get_by_label("Sozialraum").select_option("Düren-Nord")
    page.get_by_label("Betreuungsplatz (Kita, Tagespflege)").check()
    page.get_by_label("Sprachförderung").check()
    page.get_by_label("Die Familie braucht mehr Unterstützung, als unsere Stelle allein geben kann.").check()
    page.get_by_label("Zusammenfassung für das Team (ohne Namen)").fill(
        "Kind, 5 Jahre, ohne Kita-Platz, spricht kein Deutsch; Familiensprache Türkisch.")
    page.get_by_label("Ja, die Einwilligung ist erteilt").check()
    page.get_by_label("Präventionsbüro Kreis Düren").check()
    page.get_by_label("Gesundheitsamt Kreis Düren").check()
    page.get_by_label("Wie wurde die Einwilligung erteilt?").select_option("written")
    screenshot(page, "intake-jobcenter-form")
    page.get_by_role("button", name="Fall aufnehmen").click()

    page.wait_for_url(re.compile(rf"{live_server}/faelle/[0-9a-f-]{{36}}$"))
    assert page.locator("#case-state").inner_text() == "Bereit für das Schnittstellengespräch"
    assert page.get_by_text(re.compile(r"Der Fall DN-\d{4}-\d{5} wurde aufgenommen\.")).is_visible()
    assert page.get_by_role("cell", name="Yusuf").is_visible()  # the own agency reads what it collected
    assert page.get_by_text("Einwilligung bestätigen").count() == 1  # in the timeline
    assert screenshot(page, "intake-jobcenter-ready-for-review").stat().st_size > 10_000
