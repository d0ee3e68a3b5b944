"""Assemble the iCalendar documents from the database: one invitation, one user's feed.

Only pseudonymous case numbers and links go into them (see praevcase.sessions.ical).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.sessions import ical
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee

#: The feed shows sessions from this long ago …
FEED_PAST = timedelta(days=90)
#: … up to this far ahead
FEED_AHEAD = timedelta(days=400)


def case_numbers(session_ids: list) -> dict:
    """Case numbers on each session's agenda, in agenda order (one query)."""
    out: dict = {sid: [] for sid in session_ids}
    if session_ids:
        q = (sa.select(AgendaItem.session_id, Family.case_number).join(Case, Case.id == AgendaItem.case_id)
             .join(Family, Family.id == Case.family_id).where(AgendaItem.session_id.in_(session_ids))
             .order_by(AgendaItem.session_id, AgendaItem.position))
        for sid, number in db.session.execute(q):
            out[sid].append(number)
    return out


def _person(user: User | None) -> ical.Person | None:
    return ical.Person(user.email, user.display_name) if user is not None else None


def invitation_for(session: ReviewSession, *, now: datetime, url: str) -> bytes:
    """The .ics invitation of *session*: organizer, the member agencies' Präventionskräfte, the agenda."""
    rows = db.session.scalars(sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id))
    attendees = [p for p in (_person(a.user) for a in rows) if p is not None]
    organizer = _person(db.session.get(User, session.organizer_id)) if session.organizer_id else None
    return ical.invitation(session, case_numbers=case_numbers([session.id])[session.id], url=url, now=now,
                           organizer=organizer, attendees=attendees)


def feed_for(user: User, *, now: datetime, link: Callable[..., str]) -> bytes:
    """The user's feed: the team's sessions and, for a Lotse, the due dates of their families."""
    sessions = list(db.session.scalars(sa.select(ReviewSession).where(
        ReviewSession.starts_dt >= now - FEED_PAST, ReviewSession.starts_dt <= now + FEED_AHEAD)
        .order_by(ReviewSession.starts_dt)))
    numbers = case_numbers([s.id for s in sessions])
    events = [ical.session_event(s, case_numbers=numbers[s.id], url=link("sessions.show", session_id=s.id), now=now)
              for s in sessions]
    due: list[ical.DueDate] = []
    if Role.team_member in user.roles:
        from praevcase.lotse.queries import due_dates

        for kind, uid, day, case_id, number in due_dates(user, since=(now - FEED_PAST).date()):
            label = "Nächster Schritt fällig" if kind == "next_step" else "Wiedervorlage im Team"
            due.append(ical.DueDate(uid=uid, day=day, summary=f"{label} · Fall {number}",
                                    url=link("lotse.family", case_id=case_id)))
    return ical.feed(events, due, now=now, name="praevcase – Präventionsteam")
