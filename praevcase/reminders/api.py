"""API: the caller's inbox of due and overdue reminders, marking one done, the e-mail digest setting."""
from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask_smorest import Blueprint

from praevcase.api import ProblemOut
from praevcase.database import utcnow
from praevcase.permissions import AUTHENTICATED
from praevcase.permissions import requires
from praevcase.reminders import operations as ops
from praevcase.reminders import queries
from praevcase.reminders.models import Reminder
from praevcase.reminders.schemas import DigestOut
from praevcase.reminders.schemas import PreferenceIn
from praevcase.reminders.schemas import ReminderOut

blp = Blueprint("reminders_api", __name__, url_prefix="/api/v1/reminders",
                description="Erinnerungen: der eigene Eingang (fällig und überfällig), erledigen, E-Mail-Sammelversand")


def _out(items: list[Reminder], now: Any) -> list[dict[str, Any]]:
    labels, texts = queries.texts(items)
    return [{"id": r.id, "kind": r.kind, "label": labels[r.id], "text": texts[r.id], "case_number": r.case_number,
             "link_path": r.link_path, "opens_dt": r.opens_dt, "due_dt": r.due_dt, "overdue": r.due_dt < now,
             "state": r.state.value} for r in items]


@blp.route("/")
@requires(AUTHENTICATED)
@blp.response(200, ReminderOut(many=True))
def list_reminders():
    """Your open reminders whose window has opened, most urgent first (those whose reason is gone are cancelled)."""
    now = utcnow()
    return _out(queries.inbox(g.user, now=now), now)


@blp.route("/<uuid:reminder_id>/done", methods=["POST"])
@requires(AUTHENTICATED)
@blp.response(200, ReminderOut)
@blp.alt_response(409, schema=ProblemOut, description="the reminder is no longer open")
def mark_done(reminder_id: uuid.UUID):
    """Mark one of your reminders as done; it leaves the inbox and is not created again."""
    now = utcnow()
    reminder = queries.own_reminder(g.user, reminder_id)
    ops.mark_done(reminder, actor=g.user, now=now)
    return _out([reminder], now)[0]


@blp.route("/preferences", methods=["PUT"])
@requires(AUTHENTICATED)
@blp.arguments(PreferenceIn)
@blp.response(200, DigestOut)
def preferences(data: dict[str, Any]):
    """E-mails at once (``immediately``) or as a daily digest (see the enum)."""
    ops.set_digest(g.user, data["digest"], now=utcnow())
    return {"digest": ops.preference_of(g.user)}
