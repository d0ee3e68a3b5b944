"""The inbox of every user: due and overdue reminders, mark done, the e-mail digest setting."""
from __future__ import annotations

import uuid

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _

from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.forms import load_form
from praevcase.i18n import translated
from praevcase.permissions import AUTHENTICATED
from praevcase.permissions import requires
from praevcase.reminders import operations as ops
from praevcase.reminders import queries
from praevcase.reminders.models import DIGEST_LABELS
from praevcase.reminders.models import Reminder
from praevcase.reminders.registry import load_kinds
from praevcase.reminders.schemas import PreferenceIn

bp = Blueprint("reminders", __name__, url_prefix="/erinnerungen")


def _context():
    now = utcnow()
    kinds = load_kinds()
    items = queries.inbox(g.user, now=now)
    texts = {r.id: kinds[r.kind].text(r.params) if r.kind in kinds else r.kind for r in items}
    labels = {r.id: kinds[r.kind].label if r.kind in kinds else r.kind for r in items}
    return {"items": items, "texts": texts, "labels": labels, "now": now, "digest": ops.preference_of(g.user),
            "digest_labels": translated(DIGEST_LABELS)}


@bp.route("/")
@requires(AUTHENTICATED)
def inbox():
    return render_template("reminders/inbox.html", **_context())


@bp.route("/<uuid:reminder_id>/erledigt", methods=["POST"])
@requires(AUTHENTICATED)
def done(reminder_id: uuid.UUID):
    reminder = db.session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None or reminder.recipient_id != g.user.id:
        raise NotFound()
    ops.mark_done(reminder, actor=g.user, now=utcnow())
    flash(_("Die Erinnerung wurde als erledigt markiert."), "success")
    return redirect(url_for(".inbox"))


@bp.route("/einstellungen", methods=["POST"])
@requires(AUTHENTICATED)
def preferences():
    data = load_form(PreferenceIn(), template="reminders/inbox.html", **_context())
    ops.set_digest(g.user, data["digest"], now=utcnow())
    flash(_("Ihre Einstellung wurde gespeichert."), "success")
    return redirect(url_for(".inbox"))
