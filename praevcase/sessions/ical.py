"""iCalendar documents: the invitation to one session (METHOD:REQUEST) and a user's feed (METHOD:PUBLISH).

They carry the session, pseudonymous case numbers and links — never a name or any detail of a
family. The UID of a session never changes; its SEQUENCE grows with every change attendees must
see, so calendar programs update the event in place. Times are in Europe/Berlin with a VTIMEZONE.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import datetime

import icalendar

from praevcase.sessions.models import ReviewSession
from praevcase.sessions.schedule import local
from workflows.review_session import ReviewSessionState

PRODID = "-//praevcase//Schnittstellengespraech//DE"
SUMMARY = "Schnittstellengespräch des Präventionsteams"


@dataclass(frozen=True)
class Person:
    """An invited member of staff (never a family member)."""

    email: str
    name: str


@dataclass(frozen=True)
class DueDate:
    """An all-day reminder in a Lotse's feed: a next step or a re-review, by case number only."""

    uid: str
    day: date
    summary: str
    url: str


def _calendar(method: str, name: str | None = None) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def _address(person: Person, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    address.params["cn"] = person.name
    for key, value in params.items():
        address.params[key] = value
    return address


def session_event(session: ReviewSession, *, case_numbers: Iterable[str], url: str, now: datetime,
                  organizer: Person | None = None, attendees: Iterable[Person] = ()) -> icalendar.Event:
    """The VEVENT of a session: date, place, the agenda as case numbers, and the link."""
    event = icalendar.Event()
    event.add("uid", session.ical_uid)
    event.add("sequence", session.ical_sequence)
    event.add("dtstamp", now)
    event.add("dtstart", local(session.starts_dt))
    event.add("dtend", local(session.ends_dt))
    event.add("summary", SUMMARY)
    event.add("location", session.place)
    numbers = list(case_numbers)
    agenda = "\n".join(f"- Fall {n}" for n in numbers) if numbers else "(wird bis zum Stichtag erstellt)"
    event.add("description", f"Tagesordnung:\n{agenda}\n\nUnterlagen und Protokoll: {url}")
    event.add("url", url)
    cancelled = session.state is ReviewSessionState.cancelled
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if organizer is not None:
        event.add("organizer", _address(organizer))
    for person in attendees:
        event.add("attendee", _address(person, role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp="TRUE"))
    return event


def invitation(session: ReviewSession, *, case_numbers: Iterable[str], url: str, now: datetime,
               organizer: Person | None, attendees: Iterable[Person]) -> bytes:
    """The invitation (.ics) to one session; a cancelled session yields METHOD:CANCEL."""
    method = "CANCEL" if session.state is ReviewSessionState.cancelled else "REQUEST"
    cal = _calendar(method)
    cal.add_component(session_event(session, case_numbers=case_numbers, url=url, now=now, organizer=organizer,
                                    attendees=attendees))
    cal.add_missing_timezones()
    return cal.to_ical()


def feed(events: Iterable[icalendar.Event], due: Iterable[DueDate], *, now: datetime, name: str) -> bytes:
    """A subscribable calendar: sessions plus the Lotse's due dates (all-day)."""
    cal = _calendar("PUBLISH", name)
    for event in events:
        cal.add_component(event)
    for d in due:
        event = icalendar.Event()
        event.add("uid", d.uid)
        event.add("dtstamp", now)
        event.add("dtstart", d.day)
        event.add("summary", d.summary)
        event.add("description", f"Details in praevcase: {d.url}")
        event.add("url", d.url)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
