"""English is a real second locale: chosen by the browser or per account, and the catalogue is complete.

How to update the catalogue when strings change: README.md, section "Translations".
"""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.extract import DEFAULT_KEYWORDS
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.audit.models import AuditEvent
from praevcase.extensions import db
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "praevcase" / "translations" / "en" / "LC_MESSAGES"


@pytest.fixture
def staff(app):
    with arrange(app):
        return UserFactory(roles=[Role.team_member])


def _choose(client, locale: str):
    token = get_csrf(client, "/konto")
    return client.post("/konto/sprache", data={"csrf_token": token, "locale": locale})


def test_login_page_is_english_when_the_browser_asks_for_english(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in" in page and "Email address" in page and "Password" in page
    assert "Anmelden" not in page and "Passwort" not in page


@pytest.mark.parametrize("header", [None, "de-DE,de;q=0.9", "fr-FR,fr;q=0.9", "de;q=0.9,en;q=0.5"])
def test_login_page_is_german_by_default_and_when_german_is_preferred(client, header):
    headers = {"Accept-Language": header} if header else {}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Anmelden" in page and "E-Mail-Adresse" in page
    assert "Sign in" not in page


def test_choosing_english_on_the_account_page_makes_the_start_page_english(app, client, staff):
    login_as(client, app, staff)
    german = client.get("/").get_data(as_text=True)
    assert "Willkommen" in german and "Präventionskraft" in german
    assert "Sprache / Language" in client.get("/konto").get_data(as_text=True)

    response = _choose(client, "en")
    assert response.status_code == 302 and response.headers["Location"].endswith("/konto")
    account = client.get("/konto").get_data(as_text=True)
    assert "The language has been saved." in account and "My account" in account

    start = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)  # the account wins
    assert '<html lang="en">' in start
    assert f"Welcome, {staff.display_name}" in start
    assert "Prevention officer" in start  # role label
    assert "Sign out" in start and "Reminders" in start  # navigation
    assert "Willkommen" not in start and "Abmelden" not in start and "Erinnerungen" not in start

    with arrange(app):
        assert db.session.get(User, staff.id).locale == "en"
        event = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "account.locale", AuditEvent.actor_user_id == staff.id)).one()
        assert event.details == {"from": "de", "to": "en"}

    _choose(client, "de")
    assert "Die Sprache wurde gespeichert." in client.get("/konto").get_data(as_text=True)
    assert "Willkommen" in client.get("/").get_data(as_text=True)


def test_an_unknown_language_is_refused_with_a_message_in_the_users_language(app, client, staff):
    login_as(client, app, staff)
    _choose(client, "en")
    response = _choose(client, "fr")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please choose one of the languages offered." in page and "Please check your entries" in page
    with arrange(app):
        assert db.session.get(User, staff.id).locale == "en"


def test_choosing_a_language_needs_the_csrf_token(app, client, staff):
    login_as(client, app, staff)
    assert client.post("/konto/sprache", data={"locale": "en"}).status_code == 400
    with arrange(app):
        assert db.session.get(User, staff.id).locale == "de"


def test_the_compiled_catalogue_is_up_to_date_with_the_po_file():
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = read_po(f, locale="en")
    with open(CATALOGUE / "messages.mo", "rb") as f:
        mo = read_mo(f)
    stale = []
    for message in po:
        if not message.id or message.fuzzy or not all(_strings(message)):
            continue
        compiled = mo.get(message.id)
        if compiled is None or _strings(compiled) != _strings(message):
            stale.append(message.id)
    assert stale == [], f"run: pybabel compile -d praevcase/translations ({len(stale)} differ)"
    problems = [(message.id, [str(e) for e in errors]) for message, errors in po.check()]
    assert problems == [], "placeholders of msgid and msgstr differ"


def test_every_extracted_msgid_has_an_english_translation():
    """A new German string without an English translation fails here, with the list of the missing ones."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(ROOT / "babel.cfg"))
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    extracted = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        msgid = message[0] if isinstance(message, tuple) else message
        extracted.setdefault(msgid, f"{filename}:{lineno}")
    assert len(extracted) > 300, "the extraction found too little; is babel.cfg right?"
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = read_po(f, locale="en")
    missing = sorted(f"{where}: {msgid}" for msgid, where in extracted.items()
                     if (m := po.get(msgid)) is None or m.fuzzy or not all(_strings(m)))
    assert missing == [], ("msgids without an English translation (see README.md, Translations):\n  "
                           + "\n  ".join(missing))


def _strings(message) -> tuple[str, ...]:
    """msgstr, or the plural forms (a .mo file gives them as a list)."""
    return tuple(message.string) if isinstance(message.string, tuple | list) else (message.string,)


def test_the_workflow_labels_module_lists_every_label_of_the_workflows():
    """Regenerate with ``python -m praevcase.workflow_labels`` when a workflow label changed."""
    from praevcase import workflow_labels

    assert list(workflow_labels.LABELS) == workflow_labels.current()
