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
from praevcase.forms import load_form
from praevcase.i18n import translated
from praevcase.permissions import AUTHENTICATED
from praevcase.permissions import requires
from praevcase.reminders import operations as ops
from praevcase.reminders import queries
from praevcase.reminders.models import DIGEST_LABELS
from praevcase.reminders.schemas import PreferenceIn

bp = Blueprint("reminders", __name__, url_prefix="/erinnerungen")


def _context():
    now = utcnow()
    items = queries.inbox(g.user, now=now)
    labels, texts = queries.texts(items)
    return {"items": items, "texts": texts, "labels": labels, "now": now, "digest": ops.preference_of(g.user),
            "digest_labels": translated(DIGEST_LABELS)}


@bp.route("/")
@requires(AUTHENTICATED)
def inbox():
    return render_template("reminders/inbox.html", **_context())


@bp.route("/<uuid:reminder_id>/erledigt", methods=["POST"])
@requires(AUTHENTICATED)
def done(reminder_id: uuid.UUID):
    ops.mark_done(queries.own_reminder(g.user, reminder_id), actor=g.user, now=utcnow())
    flash(_("Die Erinnerung wurde als erledigt markiert."), "success")
    return redirect(url_for(".inbox"))


@bp.route("/einstellungen", methods=["POST"])
@requires(AUTHENTICATED)
def preferences():
    data = load_form(PreferenceIn(), template="reminders/inbox.html", **_context())
    ops.set_digest(g.user, data["digest"], now=utcnow())
    flash(_("Ihre Einstellung wurde gespeichert."), "success")
    return redirect(url_for(".inbox"))
