"""An agency the consent does not name never gets the family's names: pages, minutes, PDF, .ics, feed, API.

A canary family name is planted in the persons, the notes of the peer consultation, the
provider's feedback and the contact log; every body the Jugendamt's Präventionskraft (in the
team, present in the session, but not named in the consent) can fetch is searched for it. The
Gesundheitsamt (named) is the positive control: the same pages do show the name to it.
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.lotse.models import ContactSetting
from praevcase.lotse.operations import log_contact
from praevcase.referrals import operations as referral_ops
from praevcase.sessions import agenda
from praevcase.sessions import operations as ops
from praevcase.sessions.models import Decision
from praevcase.sessions.models import Presence
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from tests.conftest import arrange
from tests.conftest import login_as
from tests.pdftext import pdf_text
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.cases.conftest import CANARY_GIVEN
from tests.praevcase.sessions.conftest import attached
from tests.praevcase.sessions.conftest import new_session
from tests.praevcase.sessions.conftest import open_ready_case

DENIED = "Einwilligung deckt Ihre Stelle nicht ab"
CANARIES = (CANARY_FAMILY, CANARY_GIVEN)


@pytest.fixture
def held(app, team):
    """A held session: the canary case with notes, a Lotse, a completed referral and a logged contact."""
    with arrange(app):
        k = attached(team)
        case = open_ready_case(k, canary=True)  # consent names Präventionsbüro and Gesundheitsamt only
        now = utcnow()
        session = new_session(k)
        agenda.build_agenda(session, actor=k.coordinator, now=now)
        ops.fire_session(session, "freeze_agenda", actor=k.coordinator, now=now)
        for attendee in db.session.scalars(sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id)):
            if attendee.agency_id in (k.buero.id, k.gesundheitsamt.id, k.jugendamt.id):
                ops.set_presence(session, attendee, Presence.present, actor=k.coordinator, now=now)
        item = session.items[0]
        agenda.save_notes(session, item, f"Mutter {CANARY_GIVEN} {CANARY_FAMILY} wünscht Sprachförderung.",
                          actor=k.coordinator, now=now)
        referral = agenda.propose_offer(session, item, {"offer_id": k.language_offer.id}, actor=k.coordinator, now=now)
        agenda.decide(session, item, {"decision": Decision.assign_lotse, "lotse_user_id": k.health.id},
                      actor=k.coordinator, now=now)
        for trigger in ("offer", "accept", "request", "start", "complete"):
            referral_ops.fire_referral(referral, trigger, actor=k.health, now=now,
                                       provider_feedback=f"{CANARY_FAMILY} kam regelmäßig." if trigger == "complete"
                                       else None)
        log_contact(case, {"contact_date": date.today(), "setting": ContactSetting.home,
                           "summary": f"Hausbesuch bei {CANARY_FAMILY}.", "next_step": f"{CANARY_GIVEN} anrufen",
                           "next_step_due": date.today()}, actor=k.health, now=now)
        ops.fire_session(session, "hold", actor=k.coordinator, now=now)
        ops.fire_session(session, "finalize_minutes", actor=k.coordinator, now=now)
        youth_feed = ops.create_feed(k.youth, now=now)
    return {"case": case, "session": session, "item": item, "referral": referral, "youth_feed": youth_feed}


def _bodies(client, team, held, user) -> dict[str, str]:
    s, c, r = held["session"].id, held["case"].id, held["referral"].id
    login_as(client, team.app, user)
    urls = ["/sitzungen/", f"/sitzungen/{s}", f"/sitzungen/{s}/protokoll", f"/sitzungen/{s}/einladung.ics",
            f"/sitzungen/{s}/moderation", f"/vermittlungen/{r}", "/lotse/", f"/lotse/{c}", f"/faelle/{c}",
            "/angebote/", "/sitzungen/kalender"]
    out = {}
    for url in urls:
        response = client.get(url)
        out[url] = (response.status_code, response.get_data(as_text=True))
    pdf = client.get(f"/sitzungen/{s}/protokoll.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    out["pdf"] = (200, pdf_text(pdf.data))
    headers = team.token(user)
    for url in ("/api/v1/sessions/", f"/api/v1/sessions/{s}", f"/api/v1/sessions/{s}/minutes",
                f"/api/v1/sessions/{s}/invitation.ics", f"/api/v1/referrals/?case_id={c}", f"/api/v1/referrals/{r}",
                f"/api/v1/contacts/?case_id={c}", "/api/v1/contacts/families", f"/api/v1/cases/{c}"):
        response = client.get(url, headers=headers)
        out[url] = (response.status_code, response.get_data(as_text=True))
    return out


def test_the_unnamed_agency_gets_no_name_from_any_page_minutes_pdf_ics_feed_or_api(app, client, team, held):
    bodies = _bodies(client, team, held, team.youth)
    feed = client.get(f"/sitzungen/kalender/{held['youth_feed']}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    bodies["feed"] = (200, feed.get_data(as_text=True))
    leaks = {url: name for url, (_status, body) in bodies.items() for name in CANARIES if name in body}
    assert leaks == {}
    status = {url: code for url, (code, _body) in bodies.items()}
    s, c = held["session"].id, held["case"].id
    assert status[f"/sitzungen/{s}/moderation"] == 403  # the meeting view is the chair's
    assert status[f"/lotse/{c}"] == 404 and status[f"/api/v1/contacts/?case_id={c}"] == 404
    for url in (f"/sitzungen/{s}", f"/sitzungen/{s}/protokoll", f"/faelle/{c}"):
        assert status[url] == 200 and DENIED in bodies[url][1], url
    assert DENIED in bodies["pdf"][1]
    assert "Sprachförderung vor der Einschulung" in bodies[f"/sitzungen/{s}/protokoll"][1]  # the minutes' substance
    api = team.token(team.youth)
    detail = client.get(f"/api/v1/sessions/{s}", headers=api).json
    assert detail["agenda"][0]["names"] is None and detail["agenda"][0]["names_denied"] == "agency_not_named"
    assert detail["agenda"][0]["notes"] is None and detail["agenda"][0]["notes_denied"] == "agency_not_named"
    assert len(bodies) >= 20


def test_the_named_agency_does_see_the_names_so_the_search_would_find_a_leak(app, client, team, held):
    bodies = _bodies(client, team, held, team.health)
    s, c = held["session"].id, held["case"].id
    assert CANARY_FAMILY in bodies[f"/sitzungen/{s}"][1]  # agenda: names and notes
    assert CANARY_FAMILY in bodies[f"/lotse/{c}"][1]  # the Lotse's workspace
    assert CANARY_FAMILY in bodies[f"/sitzungen/{s}/protokoll"][1]  # notes in the minutes (no names though)
    assert CANARY_FAMILY in bodies["pdf"][1]
    for url in (f"/sitzungen/{s}/einladung.ics", f"/api/v1/sessions/{s}/invitation.ics"):
        assert CANARY_FAMILY not in bodies[url][1]  # invitations never carry a name, for anyone


def test_the_projector_hides_names_while_an_unnamed_agency_is_in_the_room(app, client, team):
    with arrange(app):
        k = attached(team)
        open_ready_case(k, canary=True)
        session = new_session(k)
        agenda.build_agenda(session, actor=k.coordinator, now=utcnow())
        ops.fire_session(session, "freeze_agenda", actor=k.coordinator, now=utcnow())
        attendees = {a.agency_id: a for a in db.session.scalars(
            sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id))}
        for agency in (k.buero, k.gesundheitsamt):
            ops.set_presence(session, attendees[agency.id], Presence.present, actor=k.coordinator, now=utcnow())
    login_as(client, app, team.coordinator)
    html = client.get(f"/sitzungen/{session.id}/moderation").get_data(as_text=True)
    assert CANARY_FAMILY in html  # only named agencies present: the room may see the names
    with arrange(app):
        k = attached(team)
        ops.set_presence(db.session.get(ReviewSession, session.id),
                         db.session.get(SessionAttendee, attendees[k.jugendamt.id].id), Presence.present,
                         actor=k.coordinator, now=utcnow())
    html = client.get(f"/sitzungen/{session.id}/moderation").get_data(as_text=True)
    assert CANARY_FAMILY not in html and "Namen ausgeblendet" in html
