"""API: referrals ("Vermittlungen") — propose, fire the workflow, record feedback (the same operations as the pages)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from flask_smorest import Blueprint

from praevcase.api import ProblemOut
from praevcase.cases.operations import lock_case
from praevcase.cases.queries import can_see
from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.permissions import requires
from praevcase.privacy.vault import Denied
from praevcase.referrals import operations as ops
from praevcase.referrals import queries
from praevcase.referrals.models import Referral
from praevcase.referrals.permissions import REFERRALS_ACT
from praevcase.referrals.permissions import REFERRALS_VIEW
from praevcase.referrals.schemas import ReferralCreateIn
from praevcase.referrals.schemas import ReferralListArgs
from praevcase.referrals.schemas import ReferralNotesIn
from praevcase.referrals.schemas import ReferralOut
from praevcase.referrals.schemas import ReferralTransitionIn

blp = Blueprint("referrals_api", __name__, url_prefix="/api/v1/referrals",
                description="Vermittlungen an Angebote: Vorschlag, Antwort der Familie, Anfrage, Beginn, Abschluss")

_CONFLICT = {"schema": ProblemOut, "description": "stale version (code stale) or refused transition"}


def _visible(referral_id: uuid.UUID) -> Referral:
    referral = db.session.get(Referral, referral_id)
    if referral is None or not can_see(g.user, referral.case):
        raise NotFound()
    return referral


def _found(view: Callable[..., Any]) -> Callable[..., Any]:
    """404 for a referral the caller may not see — before the body is validated."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _visible(kwargs["referral_id"])
        return view(*args, **kwargs)

    return wrapper


def _out(referral: Referral) -> dict[str, Any]:
    view = queries.views([referral], g.user, utcnow())[0]
    denied = view["notes_denied"]
    return {**view, "notes_denied": denied.reason if isinstance(denied, Denied) else None}


@blp.route("/")
@requires(REFERRALS_VIEW)
@blp.arguments(ReferralListArgs, location="query")
@blp.response(200, ReferralOut(many=True))
def list_referrals(args: dict[str, Any]):
    """Referrals of the cases you may see; filter by ``case_id`` and ``state``."""
    rows = queries.visible(g.user, case_id=args.get("case_id"), state=args.get("state"))
    views = queries.views(rows, g.user, utcnow())
    return [{**v, "notes_denied": v["notes_denied"].reason if isinstance(v["notes_denied"], Denied) else None}
            for v in views]


@blp.route("/<uuid:referral_id>")
@requires(REFERRALS_VIEW)
@blp.response(200, ReferralOut)
def get_referral(referral_id: uuid.UUID):
    """One referral; feedback and the family's view only where the consent covers you (purpose referral)."""
    return _out(_visible(referral_id))


@blp.route("/", methods=["POST"])
@requires(REFERRALS_ACT)
@blp.arguments(ReferralCreateIn)
@blp.response(201, ReferralOut)
@blp.alt_response(409, **_CONFLICT)
def propose(data: dict[str, Any]):
    """The Lotse (or the coordinator) proposes an offer, or a kind of offer, for a case."""
    case = lock_case(data["case_id"], g.user)
    offer = ops.active_offer(data["offer_id"]) if data.get("offer_id") else None
    return _out(ops.propose(case, offer=offer, offer_type=data.get("offer_type"), actor=g.user, now=utcnow()))


@blp.route("/<uuid:referral_id>/transitions", methods=["POST"])
@requires(REFERRALS_ACT)
@_found
@blp.arguments(ReferralTransitionIn)
@blp.response(200, ReferralOut)
@blp.alt_response(409, **_CONFLICT)
def fire(data: dict[str, Any], referral_id: uuid.UUID):
    """Fire a trigger (``permitted_triggers`` lists yours); ``request`` may name the offer or a provider."""
    _visible(referral_id)
    referral = ops.lock_referral(referral_id, g.user)
    offer = ops.active_offer(data["offer_id"]) if data.get("offer_id") else None
    ops.fire_referral(referral, data["trigger"], actor=g.user, now=utcnow(), expected_version=data["version"],
                      reason=data.get("reason"), offer=offer, provider_name=data.get("provider_name"),
                      provider_feedback=data.get("provider_feedback"), family_view=data.get("family_view"))
    return _out(referral)


@blp.route("/<uuid:referral_id>/notes", methods=["PUT"])
@requires(REFERRALS_ACT)
@_found
@blp.arguments(ReferralNotesIn)
@blp.response(200, ReferralOut)
@blp.alt_response(409, **_CONFLICT)
def notes(data: dict[str, Any], referral_id: uuid.UUID):
    """Record the provider's feedback or the family's view (sealed, DataCategory.case_notes)."""
    _visible(referral_id)
    referral = ops.record_notes(ops.lock_referral(referral_id, g.user), provider_feedback=data.get("provider_feedback"),
                                family_view=data.get("family_view"), actor=g.user, now=utcnow(),
                                expected_version=data["version"])
    return _out(referral)
