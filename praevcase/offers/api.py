"""API: the offers catalogue (read for the team, write for the admin)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from flask_smorest import Blueprint

from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.offers import operations as ops
from praevcase.offers import queries
from praevcase.offers.models import Offer
from praevcase.offers.permissions import OFFERS_MANAGE
from praevcase.offers.permissions import OFFERS_VIEW
from praevcase.offers.schemas import OfferFilterIn
from praevcase.offers.schemas import OfferIn
from praevcase.offers.schemas import OfferOut
from praevcase.permissions import requires
from praevcase.tenants.models import Tenant

blp = Blueprint("offers_api", __name__, url_prefix="/api/v1/offers",
                description="Angebotskatalog: Anbieter, Altersphasen, Handlungsfelder, Plätze, Präventionsstandards")


def _offer(offer_id: uuid.UUID) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise NotFound()
    return offer


def _found(view: Callable[..., Any]) -> Callable[..., Any]:
    """404 for another tenant's (or an unknown) offer — before the body is validated."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _offer(kwargs["offer_id"])
        return view(*args, **kwargs)

    return wrapper


def _one(offer: Offer) -> dict[str, Any]:
    return queries.views([offer])[0]


@blp.route("/")
@requires(OFFERS_VIEW)
@blp.arguments(OfferFilterIn, location="query")
@blp.response(200, OfferOut(many=True))
def list_offers(filters: dict[str, Any]):
    """Offers of the catalogue; filter by text, type, age phase, field of action and Sozialraum."""
    return queries.views(queries.search(filters))


@blp.route("/<uuid:offer_id>")
@requires(OFFERS_VIEW)
@blp.response(200, OfferOut)
def get_offer(offer_id: uuid.UUID):
    """One offer."""
    return _one(_offer(offer_id))


@blp.route("/", methods=["POST"])
@requires(OFFERS_MANAGE)
@blp.arguments(OfferIn)
@blp.response(201, OfferOut)
def create_offer(data: dict[str, Any]):
    """Add an offer to the catalogue (admin)."""
    return _one(ops.create_offer(db.session.get(Tenant, g.user.tenant_id), data, actor=g.user, now=utcnow()))


@blp.route("/<uuid:offer_id>", methods=["PUT"])
@requires(OFFERS_MANAGE)
@_found
@blp.arguments(OfferIn)
@blp.response(200, OfferOut)
def update_offer(data: dict[str, Any], offer_id: uuid.UUID):
    """Replace an offer's description (admin); deactivate with ``is_active: false``."""
    offer = _offer(offer_id)
    return _one(ops.update_offer(offer, db.session.get(Tenant, g.user.tenant_id), data, actor=g.user, now=utcnow()))
