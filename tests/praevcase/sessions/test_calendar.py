"""Invitations (.ics) and the per-user calendar feed: stable UID, SEQUENCE on change, Berlin times, no names."""
from __future__ import annotations

import hashlib
from datetime import time
from datetime import timedelta

import icalendar
import sqlalchemy as sa

from praevcase.cases.models import Case
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.sessions import agenda
from praevcase.sessions import operations as ops
from praevcase.sessions.models import CalendarFeed
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.schedule import local
from praevcase.tenancy import set_scope
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.cases.conftest import CANARY_GIVEN
from tests.praevcase.cases.conftest import build_kreis
from tests.praevcase.sessions.conftest import attached
from tests.praevcase.sessions.conftest import new_session
from tests.praevcase.sessions.conftest import open_ready_case


def _event(body: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return cal, next(c for c in cal.walk("VEVENT"))


def test_the_invitation_keeps_its_uid_and_counts_its_changes(app, client, team):
    with arrange(app):
        k = attached(team)
        case = open_ready_case(k, canary=True)
        session = new_session(k)
        agenda.build_agenda(session, actor=k.coordinator, now=utcnow())
    login_as(client, app, team.health)
    url = f"/sitzungen/{session.id}/einladung.ics"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "text/calendar"
    cal, event = _event(first.data)
    assert str(cal["METHOD"]) == "REQUEST" and int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].dt.tzinfo.key == "Europe/Berlin" and event["DTSTART"].dt.hour == 14
    assert b"TZID:Europe/Berlin" in first.data and b"BEGIN:VTIMEZONE" in first.data
    assert CANARY_FAMILY.encode() not in first.data and CANARY_GIVEN.encode() not in first.data
    with arrange(app):
        k = attached(team)
        s = db.session.get(ReviewSession, session.id)
        ops.fire_session(s, "freeze_agenda", actor=k.coordinator, now=utcnow())
        day = local(s.starts_dt).date() + timedelta(days=1)
        ops.reschedule(s, k.tenant, {"day": day, "start_time": time(9, 30), "duration_minutes": 90, "place": "Rathaus"},
                       actor=k.coordinator, now=utcnow())
        case_number = db.session.get(Family, db.session.get(Case, case.id).family_id).case_number
    _cal, moved = _event(client.get(url).data)
    assert str(moved["UID"]) == str(event["UID"]) and int(moved["SEQUENCE"]) == 2
    assert moved["DTSTART"].dt.hour == 9 and str(moved["LOCATION"]) == "Rathaus"
    assert case_number in str(moved["DESCRIPTION"]) and str(moved["ORGANIZER"]).startswith("mailto:")
    attendees = [str(a) for a in moved.get("ATTENDEE")]
    assert f"mailto:{team.health.email}" in attendees and f"mailto:{team.youth.email}" in attendees
    with arrange(app):
        ops.fire_session(db.session.get(ReviewSession, session.id), "cancel", actor=attached(team).coordinator,
                         now=utcnow())
    cal, cancelled = _event(client.get(url).data)
    assert str(cal["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 3


def test_the_feed_is_public_checks_its_token_stores_only_the_hash_and_can_be_revoked(app, client, team):
    with arrange(app):
        k = attached(team)
        new_session(k)
    login_as(client, app, team.health)
    page = client.post("/sitzungen/kalender", data={"csrf_token": get_csrf(client, "/sitzungen/kalender")})
    html = page.get_data(as_text=True)
    url = html.split('id="feed-url">')[1].split("<")[0]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    with arrange(app):
        stored = db.session.scalars(sa.select(CalendarFeed.token_hash)).all()
        assert stored == [hashlib.sha256(token.encode()).digest()]
    anonymous = app.test_client()
    feed = anonymous.get(f"/sitzungen/kalender/{token}.ics")
    assert feed.status_code == 200 and b"METHOD:PUBLISH" in feed.data and b"BEGIN:VEVENT" in feed.data
    assert anonymous.get(f"/sitzungen/kalender/{token[:-2]}xx.ics").status_code == 404
    assert anonymous.get("/sitzungen/kalender/nicht-geheim.ics").status_code == 404
    client.post("/sitzungen/kalender/widerrufen", data={"csrf_token": get_csrf(client, "/sitzungen/kalender")})
    assert anonymous.get(f"/sitzungen/kalender/{token}.ics").status_code == 404


def test_the_feed_of_another_tenant_shows_only_that_tenants_sessions(app, team):
    with arrange(app):
        k = attached(team)
        mine = new_session(k)
        other = build_kreis(db.session)
        set_scope(db.session, other.tenant.id)
        theirs = new_session(other)
        token = ops.create_feed(other.health, now=utcnow())
    body = app.test_client().get(f"/sitzungen/kalender/{token}.ics").data
    assert theirs.ical_uid.encode() in body and mine.ical_uid.encode() not in body
