"""Pages of a referral: its course, the next step, the provider's feedback and the family's view."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from praevcase.cases.queries import can_see
from praevcase.cases.queries import user_names
from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.offers import queries as offer_queries
from praevcase.permissions import requires
from praevcase.referrals import operations as ops
from praevcase.referrals import queries
from praevcase.referrals.models import Referral
from praevcase.referrals.permissions import REFERRALS_ACT
from praevcase.referrals.permissions import REFERRALS_VIEW
from praevcase.referrals.schemas import ReferralNotesIn
from praevcase.referrals.schemas import ReferralTransitionIn
from praevcase.schemas import form_data
from praevcase.statemachine import TransitionHistory

bp = Blueprint("referrals", __name__, url_prefix="/vermittlungen")


def _visible(referral_id: uuid.UUID) -> Referral:
    referral = db.session.get(Referral, referral_id)
    if referral is None or not can_see(g.user, referral.case):
        raise NotFound()
    return referral


def _history(referral: Referral) -> list[dict[str, Any]]:
    rows = list(db.session.scalars(sa.select(TransitionHistory).where(
        TransitionHistory.workflow == "referral", TransitionHistory.object_id == referral.id)
        .order_by(TransitionHistory.occurred_dt, TransitionHistory.id)))
    names = user_names({r.actor_id for r in rows} | {referral.proposed_by_id})
    out = [{"dt": referral.created_dt, "label": "Vorgeschlagen" + (" im Schnittstellengespräch"
                                                                   if referral.agenda_item_id else ""),
            "actor": names.get(referral.proposed_by_id), "reason": None}]
    out += [{"dt": r.occurred_dt, "label": queries.REFERRAL.trigger_label(r.trigger), "actor": names.get(r.actor_id),
             "reason": r.reason, "to": queries.REFERRAL.state_label(r.to_state)} for r in rows]
    return out


def _back(referral: Referral):
    if request.form.get("next") == "lotse":
        return redirect(url_for("lotse.family", case_id=referral.case_id) + "#vermittlungen")
    return redirect(url_for(".show", referral_id=referral.id))


@bp.route("/<uuid:referral_id>")
@requires(REFERRALS_VIEW)
def show(referral_id: uuid.UUID):
    referral = _visible(referral_id)
    now = utcnow()
    view = queries.views([referral], g.user, now)[0]
    phase = referral.case.age_phase.value if referral.case.age_phase else None
    return render_template("referrals/detail.html", r=view, history=_history(referral),
                           triggers=queries.trigger_options(view), offer_options=offer_queries.choices(phase),
                           next=None)


@bp.route("/<uuid:referral_id>/aktion", methods=["POST"])
@requires(REFERRALS_ACT)
def act(referral_id: uuid.UUID):
    _visible(referral_id)
    schema = ReferralTransitionIn()
    data = schema.load({k: v for k, v in form_data(request.form, schema).items() if k != "next"})
    referral = ops.lock_referral(referral_id, g.user)
    offer = ops.active_offer(data["offer_id"]) if data.get("offer_id") else None
    ops.fire_referral(referral, data["trigger"], actor=g.user, now=utcnow(), expected_version=data["version"],
                      reason=data.get("reason"), offer=offer, provider_name=data.get("provider_name"),
                      provider_feedback=data.get("provider_feedback"), family_view=data.get("family_view"))
    flash(_("„%(action)s“ wurde festgehalten. Neuer Stand: %(state)s.",
            action=_(queries.REFERRAL.trigger_label(data["trigger"])),
            state=_(queries.REFERRAL.state_label(referral.state))),
          "success")
    return _back(referral)


@bp.route("/<uuid:referral_id>/notizen", methods=["POST"])
@requires(REFERRALS_ACT)
def notes(referral_id: uuid.UUID):
    _visible(referral_id)
    schema = ReferralNotesIn()
    data = schema.load({k: v for k, v in form_data(request.form, schema).items() if k != "next"})
    referral = ops.record_notes(ops.lock_referral(referral_id, g.user), provider_feedback=data.get("provider_feedback"),
                                family_view=data.get("family_view"), actor=g.user, now=utcnow(),
                                expected_version=data["version"])
    flash(_("Die Rückmeldung wurde verschlüsselt gespeichert."), "success")
    return _back(referral)
