"""The Kreis Düren example end to end in Chromium (practice-brief §4): from the Jobcenter to a closed case.

A Jobcenter professional notices a 5-year-old without a Kita place who speaks no German; the
parents consent to the team and the named agencies; the Präventionsbüro builds the agenda and
chairs the Schnittstellengespräch; the Gesundheitsamt becomes the Lotse; a language-support
offer is proposed, offered, accepted, started and completed; the case is closed — and the
minutes show it. Screenshots at the key steps go to tmp/screenshots/kreis-dueren-*.png.
"""
from __future__ import annotations

import re
from datetime import date
from datetime import timedelta

import pytest

from praevcase.demo import DEMO_PASSWORD
from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

LANGUAGE_OFFER = "Sprachförderung für Kinder vor der Einschulung – Gesundheitsamt Kreis Düren"
LOTSE = "Dr. Lena Hoffmann"


def _sign_out(page) -> None:
    page.get_by_role("button", name="Abmelden").click()


def _as(page, base: str, email: str) -> None:
    sign_in(page, base, email, DEMO_PASSWORD)
    page.wait_for_url(f"{base}/")


def _intake(page, base: str) -> str:
    """The Jobcenter professional opens the case with the parents' consent; returns its case number."""
    _as(page, base, "erstkontakt@demo.praevcase.test")
    page.goto(f"{base}/faelle/neu/jobcenter")
    field = lambda name: page.locator(f'[name="{name}"]')  # noqa: E731
    today = date.today()
    field("observed_on").fill(today.isoformat())
    page.locator('input[name="child_has_daycare"][value="nein"]').check()
    page.locator('input[name="german_language"][value="keine"]').check()
    field("family_language").fill("Arabisch")
    page.get_by_label("Sprach- und Kulturmittlung wird gebraucht").check()
    page.get_by_label("Was haben Sie wahrgenommen?").fill("Die Mutter kommt mit dem Kind zu den Terminen.")
    field("children-0-given_name").fill("Samira")
    field("children-0-family_name").fill("Rurtaler")
    field("children-0-birth_date").fill((today - timedelta(days=5 * 365 + 80)).isoformat())
    field("guardians-0-given_name").fill("Hana")
    field("guardians-0-family_name").fill("Rurtaler")
    field("guardians-0-address").fill("Rurweg 5, 52349 Düren")
    field("guardians-0-has_custody").check()
    page.get_by_label("Sozialraum").select_option("Düren-Nord")
    page.get_by_label("Betreuungsplatz (Kita, Tagespflege)").check()
    page.get_by_label("Sprachförderung").check()
    page.get_by_label("Die Familie braucht mehr Unterstützung, als unsere Stelle allein geben kann.").check()
    page.get_by_label("Zusammenfassung für das Team (ohne Namen)").fill(
        "Kind, 5 Jahre, ohne Kita-Platz, spricht kein Deutsch; Familiensprache Arabisch.")
    page.get_by_label("Ja, die Einwilligung ist erteilt").check()
    page.get_by_label("Präventionsbüro Kreis Düren").check()
    page.get_by_label("Gesundheitsamt Kreis Düren").check()
    page.get_by_label("Wie wurde die Einwilligung erteilt?").select_option("written")
    screenshot(page, "kreis-dueren-01-intake")
    page.get_by_role("button", name="Fall aufnehmen").click()
    page.wait_for_url(re.compile(rf"{base}/faelle/[0-9a-f-]{{36}}$"))
    assert page.locator("#case-state").inner_text() == "Bereit für das Schnittstellengespräch"
    number = re.search(r"DN-\d{4}-\d{5}", page.locator(".flash-success").inner_text()).group(0)
    _sign_out(page)
    return number


def _agenda(page, base: str, number: str) -> str:
    """The coordinator builds and freezes the agenda of the next session; returns the session's URL."""
    _as(page, base, "koordination@demo.praevcase.test")
    page.get_by_role("link", name="Schnittstellengespräche", exact=True).first.click()
    page.locator("section[aria-labelledby=upcoming-title] tbody a").first.click()
    session_url = page.url
    page.get_by_role("button", name=re.compile("Tagesordnung erstellen")).click()
    assert page.get_by_role("link", name=number).is_visible()
    page.get_by_role("button", name="Tagesordnung festlegen").click()
    assert page.locator("#session-state").inner_text() == "Tagesordnung festgelegt"
    screenshot(page, "kreis-dueren-02-agenda")
    invitation = page.request.get(f"{session_url}/einladung.ics")
    body = invitation.text()
    assert invitation.ok and "METHOD:REQUEST" in body and number in body and "TZID=Europe/Berlin" in body
    assert "Rurtaler" not in body and "Samira" not in body
    return session_url


def _meeting(page, session_url: str, number: str) -> None:
    """The chair records presence, the peer consultation, the offer and the Lotse; defers the other case."""
    page.goto(f"{session_url}/moderation")
    for agency in ("Präventionsbüro Kreis Düren", "Gesundheitsamt Kreis Düren", "Jobcenter Kreis Düren"):
        form = page.locator("form.presence-form", has=page.get_by_label(re.compile(f"^{agency}")))
        form.locator("select").select_option("present")
        form.get_by_role("button", name="Speichern").click()
    page.locator("nav.agenda-nav").get_by_role("link", name=number).click()
    assert page.locator("#current-case").inner_text().startswith(f"Fall {number}")
    # everyone present is named in the consent (or holds the data): the room may see the names
    assert "Samira Rurtaler" in page.locator(".family-names").inner_text()
    page.get_by_label("Notizen (werden verschlüsselt gespeichert)").fill(
        "Kollegiale Beratung: Sprachförderung vor der Einschulung, Kita-Platz über das Jugendamt.")
    page.get_by_role("button", name="Notizen speichern").click()
    page.get_by_label("Angebot aus dem Katalog").select_option(label=LANGUAGE_OFFER)
    page.get_by_role("button", name="Vorschlagen").click()
    assert "Sprachförderung für Kinder vor der Einschulung" in page.locator("#angebote ul.proposals").inner_text()
    page.get_by_label("Lotsin/Lotse zuweisen", exact=True).check()
    page.get_by_label("Lotsin/Lotse (aus den Anwesenden)").select_option(label=f"{LOTSE} (Gesundheitsamt Kreis Düren)")
    screenshot(page, "kreis-dueren-03-meeting-view")
    page.get_by_role("button", name="Entscheidung festhalten").click()
    # the other case on the agenda: the keyboard leads there (← / →), and it is deferred
    page.locator("nav.agenda-nav").get_by_role("link", name=number).click()
    page.locator("body").press("ArrowLeft" if page.locator("nav.agenda-nav li").first.locator("a").inner_text()
                               .strip() != number else "ArrowRight")
    page.wait_for_load_state()
    assert number not in page.locator("#current-case").inner_text()
    page.get_by_label("Vertagen auf das nächste Gespräch").check()
    page.get_by_role("button", name="Entscheidung festhalten").click()
    page.get_by_role("button", name="Als durchgeführt erfassen").click()
    page.get_by_role("button", name="Protokoll abschließen").click()
    assert page.locator("#session-state").inner_text() == "Protokoll abgeschlossen"


def _lotse(page, base: str, number: str) -> None:
    """The Lotse brings the offer to the family: offered, accepted, requested, started, completed; closes."""
    _as(page, base, "praeventionskraft@demo.praevcase.test")
    page.get_by_role("link", name="Meine Familien", exact=True).first.click()
    page.get_by_role("link", name=number).click()
    assert "Samira" in page.locator("section[aria-labelledby=family-title]").inner_text()
    card = page.locator("article.referral")
    card.locator("form[aria-label='Der Familie anbieten']").get_by_role("button").click()
    card.locator("form[aria-label='Annahme erfassen'] textarea").fill("Die Mutter freut sich auf den Kurs.")
    card.locator("form[aria-label='Annahme erfassen']").get_by_role("button").click()
    card.locator("form[aria-label='Beim Anbieter anfragen']").get_by_role("button").click()
    card.locator("form[aria-label='Beginn erfassen']").get_by_role("button").click()
    page.get_by_label("Was wurde besprochen? (wird verschlüsselt gespeichert)").fill(
        "Hausbesuch: Samira geht gern zur Sprachförderung.")
    page.get_by_label("Ort des Kontakts").select_option("home")
    page.get_by_role("button", name="Kontakt speichern").click()
    card.locator("form[aria-label='Abschließen'] textarea").fill("Regelmäßig teilgenommen, Ziel erreicht.")
    card.locator("form[aria-label='Abschließen']").get_by_role("button").click()
    assert card.locator(".badge").inner_text() == "Abgeschlossen"
    screenshot(page, "kreis-dueren-04-lotse-referral-completed")
    page.locator("#a-close-cr").select_option("goals_met")
    page.locator("section[aria-labelledby=steps-title] form[aria-label='Abschließen']").get_by_role("button").click()
    assert page.locator("#case-state").inner_text() == "Abgeschlossen"
    _sign_out(page)


def test_the_kreis_dueren_example_from_the_jobcenter_to_the_minutes(page, live_server):
    number = _intake(page, live_server)
    session_url = _agenda(page, live_server, number)
    _meeting(page, session_url, number)
    _sign_out(page)
    _lotse(page, live_server, number)
    _as(page, live_server, "koordination@demo.praevcase.test")
    page.goto(f"{session_url}/protokoll")
    minutes = page.locator(f"article:has-text('Fall {number}')")
    text = minutes.inner_text()
    assert "Lotsin/Lotse zugewiesen" in text and LOTSE in text
    assert "Sprachförderung für Kinder vor der Einschulung" in text and "Abgeschlossen" in text
    assert "Kollegiale Beratung: Sprachförderung" in text
    assert "Samira" not in page.content() and "Rurtaler" not in page.content()  # minutes are pseudonymous
    assert page.locator("#minutes-state").inner_text().startswith("Abgeschlossen am")
    assert page.request.get(f"{session_url}/protokoll.pdf").body().startswith(b"%PDF")
    assert screenshot(page, "kreis-dueren-05-minutes").stat().st_size > 10_000
