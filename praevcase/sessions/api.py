"""API: the prevention team, Schnittstellengespräche, agenda, decisions, minutes and invitations.

The same operations and the same reveal as the pages: names and notes appear only where the
family's consent names the caller's agency.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from flask import make_response
from flask import url_for
from flask_smorest import Blueprint

from praevcase.api import ProblemOut
from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.permissions import requires
from praevcase.privacy.vault import Denied
from praevcase.referrals.schemas import ReferralOut
from praevcase.sessions import agenda as agenda_ops
from praevcase.sessions import calendar
from praevcase.sessions import operations as ops
from praevcase.sessions import queries
from praevcase.sessions.minutes import minutes_data
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.sessions.models import TeamSeat
from praevcase.sessions.permissions import CALENDAR_FEED
from praevcase.sessions.permissions import SESSIONS_MANAGE
from praevcase.sessions.permissions import SESSIONS_VIEW
from praevcase.sessions.permissions import TEAM_MANAGE
from praevcase.sessions.schemas import AgendaItemOut
from praevcase.sessions.schemas import AttendeeOut
from praevcase.sessions.schemas import DecisionIn
from praevcase.sessions.schemas import FeedOut
from praevcase.sessions.schemas import GenerateIn
from praevcase.sessions.schemas import NotesIn
from praevcase.sessions.schemas import PresenceIn
from praevcase.sessions.schemas import ProposalIn
from praevcase.sessions.schemas import RescheduleIn
from praevcase.sessions.schemas import SeatIn
from praevcase.sessions.schemas import SeatOut
from praevcase.sessions.schemas import SessionDetailOut
from praevcase.sessions.schemas import SessionIn
from praevcase.sessions.schemas import SessionListArgs
from praevcase.sessions.schemas import SessionOut
from praevcase.sessions.schemas import SessionTransitionIn
from praevcase.tenants.models import Tenant

blp = Blueprint("sessions_api", __name__, url_prefix="/api/v1/sessions",
                description="Präventionsteam und Schnittstellengespräche: Termine, Tagesordnung, Entscheidungen, "
                            "Protokoll, Einladungen (iCalendar)")

_CONFLICT = {"schema": ProblemOut, "description": "stale version (code stale) or refused transition"}


def _found(view: Callable[..., Any]) -> Callable[..., Any]:
    """404 for another tenant's (or an unknown) session, item or attendee — before the body is validated."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        session = _session(kwargs["session_id"])
        if "item_id" in kwargs:
            ops.agenda_item(session, kwargs["item_id"])
        if "attendee_id" in kwargs:
            attendee = db.session.get(SessionAttendee, kwargs["attendee_id"])
            if attendee is None or attendee.session_id != session.id:
                raise NotFound()
        return view(*args, **kwargs)

    return wrapper


def _session(session_id: uuid.UUID) -> ReviewSession:
    session = db.session.get(ReviewSession, session_id)
    if session is None:
        raise NotFound()
    return session


def _tenant() -> Tenant:
    return db.session.get(Tenant, g.user.tenant_id)


def _out(session: ReviewSession, items: int | None = None) -> dict[str, Any]:
    fields = {k: getattr(session, k) for k in SessionOut().fields if hasattr(session, k) and k != "items"}
    count = items if items is not None else queries.item_counts([session.id]).get(session.id, 0)
    return {**fields, "state_label": queries.SESSION.state_label(session.state), "items": count}


def _reason(value: Any) -> str | None:
    return value.reason if isinstance(value, Denied) else None


def _referral(view: dict[str, Any]) -> dict[str, Any]:
    return {**view, "notes_denied": _reason(view["notes_denied"])}


def _item(item: dict[str, Any]) -> dict[str, Any]:
    notes = item["notes"]
    return {**{k: item[k] for k in ("id", "position", "case_id", "case_number", "team_summary", "age_phase_label",
                                   "needs", "names", "decision", "decision_label", "lotse", "rereview_date",
                                   "closing_reason_label")},
            "case_state": item["case"].state.value, "names_denied": _reason(item["names_denied"]),
            "notes": None if isinstance(notes, Denied) else notes, "notes_denied": _reason(notes),
            "proposals": [_referral(p) for p in item["proposals"]]}


def _detail(session: ReviewSession) -> dict[str, Any]:
    now = utcnow()
    agenda = queries.agenda_view(session, g.user, now)
    return {**_out(session, len(agenda["items"])), "attendees": queries.attendee_views(session),
            "agenda": [_item(i) for i in agenda["items"]],
            "permitted_triggers": [t["trigger"] for t in queries.session_triggers(session, g.user, now)]}


@blp.route("/")
@requires(SESSIONS_VIEW)
@blp.arguments(SessionListArgs, location="query")
@blp.response(200, SessionOut(many=True))
def list_sessions(args: dict[str, Any]):
    """Sessions of the tenant, soonest upcoming first, then the past ones."""
    upcoming, past = queries.session_lists(utcnow())
    rows = [s for s in upcoming + past if args.get("state") is None or s.state is args["state"]]
    counts = queries.item_counts([s.id for s in rows])
    return [_out(s, counts.get(s.id, 0)) for s in rows]


@blp.route("/generate", methods=["POST"])
@requires(SESSIONS_MANAGE)
@blp.arguments(GenerateIn)
@blp.response(201, SessionOut(many=True))
def generate(data: dict[str, Any]):
    """Create the sessions of the tenant's cadence for the next ``months`` (idempotent)."""
    return [_out(s, 0) for s in ops.generate_sessions(_tenant(), months=data["months"], actor=g.user, now=utcnow())]


@blp.route("/", methods=["POST"])
@requires(SESSIONS_MANAGE)
@blp.arguments(SessionIn)
@blp.response(201, SessionOut)
def create_session(data: dict[str, Any]):
    """An extra session (day, local start time in Europe/Berlin, minutes, place)."""
    return _out(ops.create_session(_tenant(), data, actor=g.user, now=utcnow()), 0)


@blp.route("/<uuid:session_id>")
@requires(SESSIONS_VIEW)
@blp.response(200, SessionDetailOut)
def get_session(session_id: uuid.UUID):
    """One session with attendance and its agenda as the caller may see it."""
    return _detail(_session(session_id))


@blp.route("/<uuid:session_id>", methods=["PUT"])
@requires(SESSIONS_MANAGE)
@_found
@blp.arguments(RescheduleIn)
@blp.response(200, SessionOut)
@blp.alt_response(409, **_CONFLICT)
def reschedule(data: dict[str, Any], session_id: uuid.UUID):
    """Move a session (the invitation's SEQUENCE grows)."""
    _session(session_id)
    return _out(ops.reschedule(ops.lock_session(session_id), _tenant(), data, actor=g.user, now=utcnow()))


@blp.route("/<uuid:session_id>/transitions", methods=["POST"])
@requires(SESSIONS_MANAGE)
@_found
@blp.arguments(SessionTransitionIn)
@blp.response(200, SessionOut)
@blp.alt_response(409, **_CONFLICT)
def fire(data: dict[str, Any], session_id: uuid.UUID):
    """Fire a trigger of the review_session workflow (freeze_agenda, unfreeze_agenda, hold, finalize_minutes, cancel)."""
    _session(session_id)
    return _out(ops.fire_session(ops.lock_session(session_id), data["trigger"], actor=g.user, now=utcnow(),
                                 expected_version=data["version"], reason=data.get("reason")))


@blp.route("/<uuid:session_id>/agenda", methods=["POST"])
@requires(SESSIONS_MANAGE)
@blp.response(200, SessionDetailOut)
@blp.alt_response(409, **_CONFLICT)
def build_agenda(session_id: uuid.UUID):
    """Put every case ready for review on the agenda of a planned session (idempotent)."""
    _session(session_id)
    agenda_ops.build_agenda(ops.lock_session(session_id), actor=g.user, now=utcnow())
    return _detail(_session(session_id))


@blp.route("/<uuid:session_id>/agenda/<uuid:item_id>", methods=["DELETE"])
@requires(SESSIONS_MANAGE)
@blp.response(204)
def remove_item(session_id: uuid.UUID, item_id: uuid.UUID):
    """Take a case off a planned agenda (it goes back to "ready for review")."""
    _session(session_id)
    session = ops.lock_session(session_id)
    agenda_ops.remove_item(session, ops.agenda_item(session, item_id), actor=g.user, now=utcnow())


@blp.route("/<uuid:session_id>/agenda/<uuid:item_id>/notes", methods=["PUT"])
@requires(SESSIONS_MANAGE)
@_found
@blp.arguments(NotesIn)
@blp.response(204)
def save_notes(data: dict[str, Any], session_id: uuid.UUID, item_id: uuid.UUID):
    """Notes of the peer consultation (sealed under the family key)."""
    _session(session_id)
    session = ops.lock_session(session_id)
    agenda_ops.save_notes(session, ops.agenda_item(session, item_id), data["notes"], mode=data["mode"],
                          actor=g.user, now=utcnow())


@blp.route("/<uuid:session_id>/agenda/<uuid:item_id>/proposals", methods=["POST"])
@requires(SESSIONS_MANAGE)
@_found
@blp.arguments(ProposalIn)
@blp.response(201, ReferralOut)
def propose(data: dict[str, Any], session_id: uuid.UUID, item_id: uuid.UUID):
    """The team proposes an offer of the catalogue (or a kind of offer): a referral in ``proposed``."""
    from praevcase.referrals import queries as referral_queries

    _session(session_id)
    session = ops.lock_session(session_id)
    referral = agenda_ops.propose_offer(session, ops.agenda_item(session, item_id), data, actor=g.user, now=utcnow())
    return _referral(referral_queries.views([referral], g.user, utcnow())[0])


@blp.route("/<uuid:session_id>/agenda/<uuid:item_id>/decision", methods=["POST"])
@requires(SESSIONS_MANAGE)
@_found
@blp.arguments(DecisionIn)
@blp.response(200, AgendaItemOut)
@blp.alt_response(409, **_CONFLICT)
def decide(data: dict[str, Any], session_id: uuid.UUID, item_id: uuid.UUID):
    """Record the team's decision; the case's trigger (assign_lotse, defer, close) fires at once."""
    _session(session_id)
    session = ops.lock_session(session_id)
    item = agenda_ops.decide(session, ops.agenda_item(session, item_id), data, actor=g.user, now=utcnow())
    view = queries.agenda_view(session, g.user, utcnow())
    return _item(next(i for i in view["items"] if i["id"] == item.id))


@blp.route("/<uuid:session_id>/attendees/<uuid:attendee_id>", methods=["PUT"])
@requires(SESSIONS_MANAGE)
@_found
@blp.arguments(PresenceIn)
@blp.response(200, AttendeeOut)
def set_presence(data: dict[str, Any], session_id: uuid.UUID, attendee_id: uuid.UUID):
    """Record whether a member agency was present (and who came)."""
    _session(session_id)
    session = ops.lock_session(session_id)
    attendee = db.session.get(SessionAttendee, attendee_id)
    if attendee is None:
        raise NotFound()
    ops.set_presence(session, attendee, data["presence"], user_id=data.get("user_id"), actor=g.user, now=utcnow())
    return next(a for a in queries.attendee_views(session) if a["id"] == attendee.id)


@blp.route("/<uuid:session_id>/minutes")
@requires(SESSIONS_VIEW)
@blp.response(200, SessionDetailOut)
def minutes(session_id: uuid.UUID):
    """The minutes as JSON: pseudonymous (no names); notes only where the consent covers the caller."""
    session = _session(session_id)
    data = minutes_data(session, g.user, utcnow())
    return {**_out(session, len(data["items"])), "attendees": data["attendees"],
            "agenda": [{**_item(i), "names": None} for i in data["items"]], "permitted_triggers": []}


@blp.route("/<uuid:session_id>/invitation.ics")
@requires(SESSIONS_VIEW)
@blp.response(200, content_type="text/calendar", description="iCalendar invitation (METHOD:REQUEST)")
def invitation(session_id: uuid.UUID):
    """The invitation as an .ics file: stable UID, SEQUENCE on change, Europe/Berlin times."""
    session = _session(session_id)
    body = calendar.invitation_for(session, now=utcnow(), url=url_for("sessions.show", session_id=session.id,
                                                                      _external=True))
    response = make_response(body)
    response.mimetype = "text/calendar"
    return response


@blp.route("/team")
@requires(SESSIONS_VIEW)
@blp.response(200, SeatOut(many=True))
def team():
    """Member agencies of the prevention team and their Präventionskraft."""
    return [{"id": s.id, "agency_id": s.agency_id, "agency": s.agency.name, "user_id": s.user_id,
             "person": s.user.display_name if s.user else None} for s in ops.seats()]


@blp.route("/team", methods=["POST"])
@requires(TEAM_MANAGE)
@blp.arguments(SeatIn)
@blp.response(200, SeatOut)
def set_seat(data: dict[str, Any]):
    """Add a member agency (or change its Präventionskraft)."""
    seat = ops.set_seat(_tenant(), data["agency_id"], data.get("user_id"), actor=g.user, now=utcnow())
    db.session.refresh(seat)
    return {"id": seat.id, "agency_id": seat.agency_id, "agency": seat.agency.name, "user_id": seat.user_id,
            "person": seat.user.display_name if seat.user else None}


@blp.route("/team/<uuid:seat_id>", methods=["DELETE"])
@requires(TEAM_MANAGE)
@blp.response(204)
def remove_seat(seat_id: uuid.UUID):
    """Take an agency out of the prevention team."""
    seat = db.session.get(TeamSeat, seat_id)
    if seat is None:
        raise NotFound()
    ops.remove_seat(seat, actor=g.user, now=utcnow())


@blp.route("/calendar-feed", methods=["POST"])
@requires(CALENDAR_FEED)
@blp.response(201, FeedOut)
def create_feed():
    """A new secret calendar URL for the caller (the old one stops working); shown once."""
    token = ops.create_feed(g.user, now=utcnow())
    return {"url": url_for("sessions.feed", token=token, _external=True)}


@blp.route("/calendar-feed", methods=["DELETE"])
@requires(CALENDAR_FEED)
@blp.response(204)
def revoke_feed():
    """Revoke the caller's calendar URL."""
    ops.revoke_feeds(g.user, now=utcnow())
