"""Pages of the Schnittstellengespräch: sessions, agenda, the chair's meeting view, minutes, invitations, team.

The secret calendar feed (``/sitzungen/kalender/<token>.ics``) is public and checks its token.
"""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import abort
from flask import flash
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.cases.queries import youth_offices
from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.forms import load_form
from praevcase.i18n import translated
from praevcase.offers import catalogue as offer_cat
from praevcase.offers import queries as offer_queries
from praevcase.permissions import PUBLIC
from praevcase.permissions import requires
from praevcase.schemas import form_data
from praevcase.sessions import agenda as agenda_ops
from praevcase.sessions import calendar
from praevcase.sessions import operations as ops
from praevcase.sessions import queries
from praevcase.sessions import schedule
from praevcase.sessions.minutes import minutes_data
from praevcase.sessions.minutes import minutes_pdf
from praevcase.sessions.models import DECISION_LABELS
from praevcase.sessions.models import PRESENCE_LABELS
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.sessions.models import TeamSeat
from praevcase.sessions.permissions import CALENDAR_FEED
from praevcase.sessions.permissions import SESSIONS_MANAGE
from praevcase.sessions.permissions import SESSIONS_VIEW
from praevcase.sessions.permissions import TEAM_MANAGE
from praevcase.sessions.schemas import DecisionIn
from praevcase.sessions.schemas import GenerateIn
from praevcase.sessions.schemas import NotesIn
from praevcase.sessions.schemas import PresenceIn
from praevcase.sessions.schemas import ProposalIn
from praevcase.sessions.schemas import RescheduleIn
from praevcase.sessions.schemas import SeatIn
from praevcase.sessions.schemas import SessionIn
from praevcase.sessions.schemas import SessionTransitionIn
from praevcase.tenancy import set_scope
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from workflows.case import CLOSING_REASON_LABELS_DE
from workflows.case import ClosingReason

bp = Blueprint("sessions", __name__, url_prefix="/sitzungen")


def _tenant() -> Tenant:
    return db.session.get(Tenant, g.user.tenant_id)


def _session(session_id: uuid.UUID) -> ReviewSession:
    session = db.session.get(ReviewSession, session_id)
    if session is None:
        raise NotFound()
    return session


#: Form fields that only say where to go back to (not part of any schema)
NAVIGATION = ("next", "punkt")


def _load(schema: Any) -> dict[str, Any]:
    raw = {k: v for k, v in form_data(request.form, schema).items() if k not in NAVIGATION}
    return schema.load(raw)


def _back(session_id: uuid.UUID, anchor: str | None = None, **args: Any):
    target = request.form.get("next")
    if target in ("meeting",):
        return redirect(url_for(".meeting", session_id=session_id, **args) + (f"#{anchor}" if anchor else ""))
    return redirect(url_for(".show", session_id=session_id) + (f"#{anchor}" if anchor else ""))


# --- sessions -----------------------------------------------------------------------------------


@bp.route("/")
@requires(SESSIONS_VIEW)
def index():
    now = utcnow()
    upcoming, past = queries.session_lists(now)
    counts = queries.item_counts([s.id for s in upcoming + past])
    cadence = ops.cadence_of(_tenant())
    return render_template("sessions/list.html", upcoming=upcoming, past=past, counts=counts,
                           cadence=schedule.describe(cadence), state_label=queries.SESSION.state_label,
                           seats=len(ops.seats()))


@bp.route("/erzeugen", methods=["POST"])
@requires(SESSIONS_MANAGE)
def generate():
    data = _load(GenerateIn())
    created = ops.generate_sessions(_tenant(), months=data["months"], actor=g.user, now=utcnow())
    flash(ngettext("%(num)d Schnittstellengespräch nach dem Rhythmus angelegt.",
                   "%(num)d Schnittstellengespräche nach dem Rhythmus angelegt.", len(created)) if created
          else _("Alle Termine im gewählten Zeitraum sind bereits angelegt."), "success")
    return redirect(url_for(".index"))


@bp.route("/neu", methods=["GET", "POST"])
@requires(SESSIONS_MANAGE)
def new():
    cadence = ops.cadence_of(_tenant())
    context = {"cadence": cadence, "session": None}
    if request.method == "GET":
        return render_template("sessions/form.html", **context)
    data = load_form(SessionIn(), template="sessions/form.html", **context)
    try:
        session = ops.create_session(_tenant(), data, actor=g.user, now=utcnow())
    except InvalidInput as e:
        db.session.rollback()
        return render_template("sessions/form.html", errors=e.errors, form=request.form, **context), 422
    flash(_("Das Schnittstellengespräch wurde angelegt."), "success")
    return redirect(url_for(".show", session_id=session.id))


@bp.route("/<uuid:session_id>/verlegen", methods=["GET", "POST"])
@requires(SESSIONS_MANAGE)
def reschedule(session_id: uuid.UUID):
    session = _session(session_id)
    context = {"cadence": ops.cadence_of(_tenant()), "session": session, "local": schedule.local}
    if request.method == "GET":
        return render_template("sessions/form.html", **context)
    data = load_form(RescheduleIn(), template="sessions/form.html", **context)
    try:
        ops.reschedule(ops.lock_session(session_id), _tenant(), data, actor=g.user, now=utcnow())
    except InvalidInput as e:
        db.session.rollback()
        return render_template("sessions/form.html", errors=e.errors, form=request.form, **context), 422
    flash(_("Das Schnittstellengespräch wurde verlegt. Die Einladung wurde aktualisiert."), "success")
    return redirect(url_for(".show", session_id=session_id))


@bp.route("/<uuid:session_id>")
@requires(SESSIONS_VIEW)
def show(session_id: uuid.UUID):
    session = _session(session_id)
    now = utcnow()
    chair = Role.coordinator in g.user.roles
    return render_template(
        "sessions/detail.html", session=session, state_label=queries.SESSION.state_label(session.state),
        agenda=queries.agenda_view(session, g.user, now), attendees=queries.attendee_views(session),
        triggers=queries.session_triggers(session, g.user, now) if chair else [], chair=chair,
        candidates=db.session.scalar(sa.select(sa.func.count()).select_from(
            agenda_ops.candidates_query(session).subquery())) if chair else 0,
        local=schedule.local)


@bp.route("/<uuid:session_id>/tagesordnung", methods=["POST"])
@requires(SESSIONS_MANAGE)
def build_agenda(session_id: uuid.UUID):
    added = agenda_ops.build_agenda(ops.lock_session(session_id), actor=g.user, now=utcnow())
    flash(ngettext("%(num)d Fall auf die Tagesordnung gesetzt.", "%(num)d Fälle auf die Tagesordnung gesetzt.", added)
          if added else _("Es gibt keine weiteren Fälle, die für das Schnittstellengespräch bereit sind."), "success")
    return redirect(url_for(".show", session_id=session_id))


@bp.route("/<uuid:session_id>/punkte/<uuid:item_id>/entfernen", methods=["POST"])
@requires(SESSIONS_MANAGE)
def remove_item(session_id: uuid.UUID, item_id: uuid.UUID):
    session = ops.lock_session(session_id)
    agenda_ops.remove_item(session, ops.agenda_item(session, item_id), actor=g.user, now=utcnow(),
                           reason=request.form.get("reason") or None)
    flash(_("Der Fall wurde von der Tagesordnung genommen und wartet auf das nächste Gespräch."), "success")
    return redirect(url_for(".show", session_id=session_id))


@bp.route("/<uuid:session_id>/aktion", methods=["POST"])
@requires(SESSIONS_MANAGE)
def act(session_id: uuid.UUID):
    _session(session_id)
    data = _load(SessionTransitionIn())
    session = ops.fire_session(ops.lock_session(session_id), data["trigger"], actor=g.user, now=utcnow(),
                               expected_version=data["version"], reason=data.get("reason"))
    flash(_("„%(action)s“ wurde ausgeführt. Neuer Stand: %(state)s.",
            action=_(queries.SESSION.trigger_label(data["trigger"])),
            state=_(queries.SESSION.state_label(session.state))),
          "success")
    return _back(session_id)


# --- the meeting --------------------------------------------------------------------------------


def _meeting_context(session: ReviewSession, position: int) -> dict[str, Any]:
    now = utcnow()
    view = queries.agenda_view(session, g.user, now, projector=True)
    items = view["items"]
    current = next((i for i in items if i["position"] == position), items[0] if items else None)
    index = items.index(current) if current else 0
    case_phase = current["case"].age_phase.value if current and current["case"].age_phase else None
    return {
        "session": session, "state_label": queries.SESSION.state_label(session.state), "items": items,
        "current": current, "previous": items[index - 1] if current and index > 0 else None,
        "next": items[index + 1] if current and index + 1 < len(items) else None,
        "open_items": view["open_items"], "attendees": queries.attendee_views(session),
        "presence_options": list(translated(PRESENCE_LABELS).items()),
        "lotse_options": [(str(u.id), f"{u.display_name} ({u.agency.name})")
                          for u in agenda_ops.lotse_options(session)],
        "offer_options": offer_queries.choices(case_phase),
        "type_options": offer_cat.options(offer_cat.OFFER_TYPE_LABELS),
        "closing_reasons": [(r.value, label) for r, label in CLOSING_REASON_LABELS_DE.items()
                            if r is not ClosingReason.consent_withdrawn],
        "youth_offices": [(str(a.id), a.name) for a in youth_offices()],
        "decision_labels": translated(DECISION_LABELS), "triggers": queries.session_triggers(session, g.user, now),
        "in_meeting": session.state in ops.MEETING_STATES, "local": schedule.local,
    }


@bp.route("/<uuid:session_id>/moderation")
@requires(SESSIONS_MANAGE)
def meeting(session_id: uuid.UUID):
    session = _session(session_id)
    position = request.args.get("punkt", type=int) or 1
    return render_template("sessions/meeting.html", **_meeting_context(session, position))


@bp.route("/<uuid:session_id>/anwesenheit/<uuid:attendee_id>", methods=["POST"])
@requires(SESSIONS_MANAGE)
def presence(session_id: uuid.UUID, attendee_id: uuid.UUID):
    session = ops.lock_session(session_id)
    attendee = db.session.get(SessionAttendee, attendee_id)
    if attendee is None:
        raise NotFound()
    data = _load(PresenceIn())
    ops.set_presence(session, attendee, data["presence"], user_id=data.get("user_id"), actor=g.user, now=utcnow())
    return _back(session_id, "anwesenheit", punkt=request.form.get("punkt", type=int) or 1)


@bp.route("/<uuid:session_id>/punkte/<uuid:item_id>/notizen", methods=["POST"])
@requires(SESSIONS_MANAGE)
def notes(session_id: uuid.UUID, item_id: uuid.UUID):
    session = ops.lock_session(session_id)
    item = ops.agenda_item(session, item_id)
    data = _load(NotesIn())
    agenda_ops.save_notes(session, item, data["notes"], mode=data["mode"], actor=g.user, now=utcnow())
    flash(_("Die Notizen wurden verschlüsselt gespeichert."), "success")
    return _back(session_id, "beratung", punkt=item.position)


@bp.route("/<uuid:session_id>/punkte/<uuid:item_id>/vorschlag", methods=["POST"])
@requires(SESSIONS_MANAGE)
def propose(session_id: uuid.UUID, item_id: uuid.UUID):
    session = ops.lock_session(session_id)
    item = ops.agenda_item(session, item_id)
    data = _load(ProposalIn())
    agenda_ops.propose_offer(session, item, data, actor=g.user, now=utcnow())
    flash(_("Das Angebot wurde vorgeschlagen."), "success")
    return _back(session_id, "angebote", punkt=item.position)


@bp.route("/<uuid:session_id>/punkte/<uuid:item_id>/entscheidung", methods=["POST"])
@requires(SESSIONS_MANAGE)
def decide(session_id: uuid.UUID, item_id: uuid.UUID):
    session = ops.lock_session(session_id)
    item = ops.agenda_item(session, item_id)
    data = _load(DecisionIn())
    agenda_ops.decide(session, item, data, actor=g.user, now=utcnow())
    flash(_("Entscheidung festgehalten: %(decision)s.", decision=_(DECISION_LABELS[item.decision])), "success")
    return _back(session_id, "entscheidung", punkt=item.position + 1)


# --- minutes and invitations ----------------------------------------------------------------------


@bp.route("/<uuid:session_id>/protokoll")
@requires(SESSIONS_VIEW)
def minutes(session_id: uuid.UUID):
    data = minutes_data(_session(session_id), g.user, utcnow())
    return render_template("sessions/minutes.html", m=data)


@bp.route("/<uuid:session_id>/protokoll.pdf")
@requires(SESSIONS_VIEW)
def minutes_as_pdf(session_id: uuid.UUID):
    session = _session(session_id)
    response = make_response(minutes_pdf(minutes_data(session, g.user, utcnow())))
    response.mimetype = "application/pdf"
    day = schedule.local(session.starts_dt).date().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="protokoll-schnittstellengespraech-{day}.pdf"'
    return response


@bp.route("/<uuid:session_id>/einladung.ics")
@requires(SESSIONS_VIEW)
def invitation(session_id: uuid.UUID):
    session = _session(session_id)
    body = calendar.invitation_for(session, now=utcnow(), url=url_for(".show", session_id=session.id,
                                                                       _external=True))
    return _ics(body, f"schnittstellengespraech-{schedule.local(session.starts_dt).date().isoformat()}.ics")


def _ics(body: bytes, filename: str):
    response = make_response(body)
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- calendar feed --------------------------------------------------------------------------------


@bp.route("/kalender")
@requires(CALENDAR_FEED)
def feed_settings():
    return render_template("sessions/feed.html", feed=ops.active_feed(g.user), url=None)


@bp.route("/kalender", methods=["POST"])
@requires(CALENDAR_FEED)
def feed_create():
    token = ops.create_feed(g.user, now=utcnow())
    url = url_for(".feed", token=token, _external=True)
    return render_template("sessions/feed.html", feed=ops.active_feed(g.user), url=url)


@bp.route("/kalender/widerrufen", methods=["POST"])
@requires(CALENDAR_FEED)
def feed_revoke():
    ops.revoke_feeds(g.user, now=utcnow())
    flash(_("Der Kalender-Link wurde widerrufen. Er funktioniert ab sofort nicht mehr."), "success")
    return redirect(url_for(".feed_settings"))


@bp.route("/kalender/<token>.ics")
@requires(PUBLIC)
def feed(token: str):
    now = utcnow()
    user = ops.feed_user(token, now=now)
    if user is None:
        abort(404)
    set_scope(db.session, user.tenant_id)
    body = calendar.feed_for(user, now=now, link=lambda endpoint, **kw: url_for(endpoint, _external=True, **kw))
    return _ics(body, "praevcase.ics")


# --- the team ------------------------------------------------------------------------------------


def _team_context() -> dict[str, Any]:
    seats = sorted(ops.seats(), key=lambda s: s.agency.name)
    taken = {s.agency_id for s in seats}
    agencies = list(db.session.scalars(sa.select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.name)))
    users = [u for u in db.session.scalars(sa.select(User).where(User.is_active.is_(True)).order_by(User.display_name))
             if u.roles & {Role.team_member, Role.coordinator}]
    return {"seats": seats, "free_agencies": [(str(a.id), a.name) for a in agencies if a.id not in taken],
            "agency_options": [(str(a.id), a.name) for a in agencies],
            "users_by_agency": {a.id: [(str(u.id), u.display_name) for u in users if u.agency_id == a.id]
                                for a in agencies},
            "user_options": [(str(u.id), f"{u.display_name} ({u.agency.name})") for u in users]}


@bp.route("/team", methods=["GET", "POST"])
@requires(TEAM_MANAGE)
def team():
    if request.method == "GET":
        return render_template("sessions/team.html", **_team_context())
    data = load_form(SeatIn(), template="sessions/team.html", **_team_context())
    try:
        ops.set_seat(_tenant(), data["agency_id"], data.get("user_id"), actor=g.user, now=utcnow())
    except InvalidInput as e:
        db.session.rollback()
        return render_template("sessions/team.html", errors=e.errors, form=request.form, **_team_context()), 422
    flash(_("Das Präventionsteam wurde gespeichert."), "success")
    return redirect(url_for(".team"))


@bp.route("/team/<uuid:seat_id>/entfernen", methods=["POST"])
@requires(TEAM_MANAGE)
def team_remove(seat_id: uuid.UUID):
    seat = db.session.get(TeamSeat, seat_id)
    if seat is None:
        raise NotFound()
    ops.remove_seat(seat, actor=g.user, now=utcnow())
    flash(_("Die Stelle gehört nicht mehr zum Präventionsteam."), "success")
    return redirect(url_for(".team"))
