"""Use cases of the team and its sessions: seats, generating and planning sessions, attendance, transitions.

The agenda, notes, proposals and decisions are in praevcase.sessions.agenda. Operations take the
actor and the clock, flush and never commit.
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.audit.operations import record
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.errors import PermissionDenied
from praevcase.errors import StaleObject
from praevcase.extensions import db
from praevcase.sessions import schedule
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.models import CalendarFeed
from praevcase.sessions.models import Presence
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.sessions.models import TeamSeat
from praevcase.sessions.permissions import is_chair
from praevcase.statemachine import transition
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings
from workflows import WORKFLOWS
from workflows.case import CaseState
from workflows.review_session import ReviewSessionState

SESSION = WORKFLOWS["review_session"]
STALE_MESSAGE = "Jemand anderes hat dieses Schnittstellengespräch inzwischen geändert. Bitte laden Sie die Seite neu."
_S = ReviewSessionState
#: States in which the meeting is run or its minutes are written
MEETING_STATES = (_S.agenda_frozen, _S.held)
FEED_PREFIX = "cal_"


def require_chair(actor: Any, session: ReviewSession) -> None:
    if not is_chair(actor, session):
        raise PermissionDenied()


def check_version(session: ReviewSession, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != session.version:
        raise StaleObject(STALE_MESSAGE)


def lock_session(session_id: uuid.UUID) -> ReviewSession:
    """Load the session ``FOR UPDATE`` (fresh from the database); 404 if not of this tenant."""
    session = db.session.scalar(sa.select(ReviewSession).where(ReviewSession.id == session_id)
                                .with_for_update(of=ReviewSession).execution_options(populate_existing=True))
    if session is None:
        raise NotFound()
    return session


def cadence_of(tenant: Tenant) -> dict[str, Any]:
    return effective_settings(tenant.settings)["session_cadence"]


# --- the team ---------------------------------------------------------------------------------


def _member_user(user_id: uuid.UUID | None, agency: Agency) -> User | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if (user is None or not user.is_active or user.agency_id != agency.id
            or not user.roles & {Role.team_member, Role.coordinator}):
        raise InvalidInput(errors={"user_id": ["Bitte eine Präventionskraft dieser Stelle wählen."]})
    return user


def set_seat(tenant: Tenant, agency_id: uuid.UUID, user_id: uuid.UUID | None, *, actor: Any,
             now: datetime) -> TeamSeat:
    """Make an agency a member of the team (or change its Präventionskraft)."""
    agency = db.session.get(Agency, agency_id)
    if agency is None or not agency.is_active:
        raise InvalidInput(errors={"agency_id": ["Bitte eine aktive Stelle wählen."]})
    user = _member_user(user_id, agency)
    seat = db.session.scalar(sa.select(TeamSeat).where(TeamSeat.agency_id == agency.id))
    if seat is None:
        seat = TeamSeat(id=new_id(), tenant_id=tenant.id, agency_id=agency.id, created_dt=now)
        db.session.add(seat)
    seat.user_id = user.id if user else None
    db.session.flush()
    record(db.session, "team.seat", now=now, actor=actor, tenant_id=tenant.id, object_type="team_seat",
           object_id=seat.id, details={"agency_id": str(agency.id), "user_id": str(user.id) if user else None})
    return seat


def remove_seat(seat: TeamSeat, *, actor: Any, now: datetime) -> None:
    record(db.session, "team.seat_remove", now=now, actor=actor, tenant_id=seat.tenant_id, object_type="team_seat",
           object_id=seat.id, details={"agency_id": str(seat.agency_id)})
    db.session.delete(seat)
    db.session.flush()


def seats() -> list[TeamSeat]:
    return list(db.session.scalars(sa.select(TeamSeat)))


# --- sessions ---------------------------------------------------------------------------------


def _new_session(tenant: Tenant, slot: schedule.Slot, *, cadence_day: date | None, actor: Any,
                 now: datetime) -> ReviewSession:
    session_id = new_id()
    session = ReviewSession(id=session_id, tenant_id=tenant.id, starts_dt=slot.starts_dt, ends_dt=slot.ends_dt,
                            place=slot.place, agenda_cutoff_dt=slot.agenda_cutoff_dt, state=_S.planned,
                            cadence_day=cadence_day, ical_uid=f"schnittstellengespraech-{session_id}@praevcase",
                            ical_sequence=0, created_dt=now)
    db.session.add(session)
    db.session.flush()
    sync_attendees(session)
    record(db.session, "review_session.create", now=now, actor=actor, tenant_id=tenant.id,
           object_type="review_session", object_id=session.id,
           details={"starts": slot.starts_dt.isoformat(), "from_cadence": cadence_day is not None})
    return session


def generate_sessions(tenant: Tenant, *, months: int, actor: Any, now: datetime) -> list[ReviewSession]:
    """Create the sessions of the cadence for the coming *months* (idempotent: known days are skipped)."""
    cadence = cadence_of(tenant)
    today = schedule.local(now).date()
    days = set(db.session.scalars(sa.select(ReviewSession.cadence_day).where(ReviewSession.cadence_day >= today)))
    created = []
    for slot in schedule.cadence_slots(cadence, after=today, months=months):
        day = schedule.local(slot.starts_dt).date()
        if day in days or slot.starts_dt <= now:
            continue
        if db.session.scalar(sa.select(ReviewSession.id).where(ReviewSession.starts_dt == slot.starts_dt)):
            continue  # an extra session already sits on this time
        created.append(_new_session(tenant, slot, cadence_day=day, actor=actor, now=now))
    return created


def create_session(tenant: Tenant, data: dict[str, Any], *, actor: Any, now: datetime) -> ReviewSession:
    """An extra session (outside the cadence) on a given day, time and place."""
    slot = _slot(tenant, data, now=now)
    if db.session.scalar(sa.select(ReviewSession.id).where(ReviewSession.starts_dt == slot.starts_dt)):
        raise InvalidInput(errors={"day": ["Zu dieser Zeit ist bereits ein Schnittstellengespräch geplant."]})
    return _new_session(tenant, slot, cadence_day=None, actor=actor, now=now)


def _slot(tenant: Tenant, data: dict[str, Any], *, now: datetime) -> schedule.Slot:
    at: time = data["start_time"]
    duration = timedelta(minutes=int(data.get("duration_minutes") or 120))
    slot = schedule.slot(data["day"], cadence_of(tenant), at=at, place=(data.get("place") or "").strip() or None,
                         duration=duration)
    if slot.starts_dt <= now:
        raise InvalidInput(errors={"day": ["Bitte einen Zeitpunkt in der Zukunft wählen."]})
    return slot


def reschedule(session: ReviewSession, tenant: Tenant, data: dict[str, Any], *, actor: Any,
               now: datetime) -> ReviewSession:
    """Move a session that has not taken place; attendees get an updated invitation (SEQUENCE + 1)."""
    require_chair(actor, session)
    check_version(session, data.get("version"))
    if session.state not in (_S.planned, _S.agenda_frozen):
        raise Conflict("Nur ein geplantes Schnittstellengespräch kann verlegt werden.")
    slot = _slot(tenant, data, now=now)
    clash = db.session.scalar(sa.select(ReviewSession.id).where(ReviewSession.starts_dt == slot.starts_dt,
                                                                ReviewSession.id != session.id))
    if clash:
        raise InvalidInput(errors={"day": ["Zu dieser Zeit ist bereits ein Schnittstellengespräch geplant."]})
    session.starts_dt, session.ends_dt, session.place = slot.starts_dt, slot.ends_dt, slot.place
    session.agenda_cutoff_dt = min(session.agenda_cutoff_dt, slot.starts_dt)
    session.ical_sequence += 1
    session.version += 1
    record(db.session, "review_session.reschedule", now=now, actor=actor, object_type="review_session",
           object_id=session.id, details={"starts": slot.starts_dt.isoformat(), "sequence": session.ical_sequence})
    db.session.flush()
    return session


def sync_attendees(session: ReviewSession) -> int:
    """One attendee row per member agency of the team; a still-invited row follows a new Präventionskraft."""
    present = {a.agency_id: a for a in db.session.scalars(
        sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id))}
    added = 0
    for seat in seats():
        row = present.get(seat.agency_id)
        if row is None:
            db.session.add(SessionAttendee(id=new_id(), tenant_id=session.tenant_id, session_id=session.id,
                                           agency_id=seat.agency_id, user_id=seat.user_id,
                                           presence=Presence.invited))
            added += 1
        elif row.presence is Presence.invited and seat.user_id is not None:
            row.user_id = seat.user_id
    db.session.flush()
    return added


def set_presence(session: ReviewSession, attendee: SessionAttendee, presence: Presence, *,
                 user_id: uuid.UUID | None = None, actor: Any, now: datetime) -> SessionAttendee:
    """Record who came (and, optionally, who came instead of the Präventionskraft)."""
    require_chair(actor, session)
    if session.state in (_S.minutes_final, _S.cancelled):
        raise Conflict("Die Anwesenheit kann nach dem Abschluss des Protokolls nicht mehr geändert werden.")
    if attendee.session_id != session.id:
        raise NotFound()
    if user_id is not None:
        agency = db.session.get(Agency, attendee.agency_id)
        attendee.user_id = _member_user(user_id, agency).id
    attendee.presence = presence
    record(db.session, "review_session.presence", now=now, actor=actor, object_type="review_session",
           object_id=session.id, details={"agency_id": str(attendee.agency_id), "presence": presence.value})
    db.session.flush()
    return attendee


# --- transitions ------------------------------------------------------------------------------


def fire_session(session: ReviewSession, trigger: str, *, actor: Any, now: datetime,
                 expected_version: int | None = None, reason: str | None = None) -> ReviewSession:
    """Apply *trigger* to a locked session, then write the columns the new state needs."""
    check_version(session, expected_version)
    if trigger not in SESSION.triggers:
        raise InvalidInput(errors={"trigger": ["Unbekannte Aktion."]})
    if trigger == "freeze_agenda" and not session.items:
        raise Conflict("Die Tagesordnung ist leer. Bitte erst die Tagesordnung erstellen.")
    transition(SESSION, session, trigger, actor=actor, now=now, reason=reason,
               details={"items": len(session.items)})
    if trigger == "freeze_agenda":
        session.frozen_dt, session.organizer_id = now, actor.id
        session.ical_sequence += 1
        sync_attendees(session)
    elif trigger == "unfreeze_agenda":
        session.ical_sequence += 1
    elif trigger == "hold":
        session.held_dt = now
    elif trigger == "finalize_minutes":
        session.minutes_final_dt, session.minutes_final_by_id = now, actor.id
    elif trigger == "cancel":
        session.cancelled_dt = now
        session.ical_sequence += 1
        _release_agenda(session, actor=actor, now=now)
    db.session.flush()
    return session


def _release_agenda(session: ReviewSession, *, actor: Any, now: datetime) -> None:
    """A cancelled session's cases go back to "ready for review" for the next agenda."""
    from praevcase.cases.operations import fire_case

    for item in session.items:
        if item.case.state is CaseState.on_agenda and item.decision is None:
            fire_case(item.case, "defer", actor=actor, now=now, reason="Schnittstellengespräch abgesagt")


def next_sessions(now: datetime, limit: int = 3) -> list[ReviewSession]:
    return list(db.session.scalars(sa.select(ReviewSession).where(
        ReviewSession.starts_dt >= now, ReviewSession.state != _S.cancelled)
        .order_by(ReviewSession.starts_dt).limit(limit)))


def agenda_item(session: ReviewSession, item_id: uuid.UUID) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.session_id != session.id:
        raise NotFound()
    return item


# --- calendar feed ----------------------------------------------------------------------------


def _feed_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def create_feed(user: User, *, now: datetime) -> str:
    """A new secret calendar URL token for *user* (older ones stop working); shown once."""
    revoke_feeds(user, now=now, audit=False)
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed(id=new_id(), tenant_id=user.tenant_id, user_id=user.id, token_hash=_feed_hash(token),
                        prefix=token[:10], created_dt=now)
    db.session.add(feed)
    db.session.flush()
    record(db.session, "calendar_feed.create", now=now, actor=user, object_type="calendar_feed", object_id=feed.id)
    return token


def revoke_feeds(user: User, *, now: datetime, audit: bool = True) -> int:
    feeds = list(db.session.scalars(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                                  CalendarFeed.revoked_dt.is_(None))))
    for feed in feeds:
        feed.revoked_dt = now
        if audit:
            record(db.session, "calendar_feed.revoke", now=now, actor=user, object_type="calendar_feed",
                   object_id=feed.id)
    db.session.flush()
    return len(feeds)


def active_feed(user: User) -> CalendarFeed | None:
    return db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                           CalendarFeed.revoked_dt.is_(None)))


def feed_user(token: str, *, now: datetime) -> User | None:
    """The active user behind a feed token (looked up across tenants by its hash), or None."""
    if not token.startswith(FEED_PREFIX) or len(token) > 100:
        return None
    with scoped(db.session, ALL_TENANTS):
        feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.token_hash == _feed_hash(token),
                                                               CalendarFeed.revoked_dt.is_(None)))
        user = db.session.get(User, feed.user_id) if feed is not None else None
        if user is None or not user.is_active:
            return None
        feed.last_used_dt = now
        return user
