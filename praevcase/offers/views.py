"""Pages of the offers catalogue: search, one offer, and the admin's form."""
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
from marshmallow import ValidationError

from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.forms import load_form
from praevcase.offers import catalogue as cat
from praevcase.offers import operations as ops
from praevcase.offers import queries
from praevcase.offers.models import Offer
from praevcase.offers.permissions import OFFERS_MANAGE
from praevcase.offers.permissions import OFFERS_VIEW
from praevcase.offers.schemas import OfferFilterIn
from praevcase.offers.schemas import OfferIn
from praevcase.permissions import requires
from praevcase.schemas import form_data
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings

bp = Blueprint("offers", __name__, url_prefix="/angebote")


def _tenant() -> Tenant:
    return db.session.get(Tenant, g.user.tenant_id)


def _offer(offer_id: uuid.UUID) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise NotFound()
    return offer


def _vocabulary() -> dict[str, Any]:
    return {"type_options": cat.options(cat.OFFER_TYPE_LABELS), "phase_options": cat.options(cat.AGE_PHASE_LABELS),
            "field_options": cat.options(cat.FIELD_LABELS), "standard_options": cat.options(cat.STANDARD_LABELS),
            "provider_type_options": cat.options(cat.PROVIDER_TYPE_LABELS),
            "sozialraeume": effective_settings(_tenant().settings).get("sozialraeume") or []}


def _form_context(offer: Offer | None) -> dict[str, Any]:
    agencies = db.session.scalars(sa.select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.name))
    return {"offer": offer, "agency_options": [(str(a.id), a.name) for a in agencies], **_vocabulary()}


@bp.route("/")
@requires(OFFERS_VIEW)
def index():
    schema = OfferFilterIn()
    raw = {k: v for k, v in form_data(request.args, schema).items() if k in schema.fields}
    try:
        filters = schema.load(raw)
    except ValidationError as err:
        filters, errors = {}, err.messages
    else:
        errors = None
    return render_template("offers/list.html", offers=queries.views(queries.search(filters)), filters=raw,
                           errors=errors, **_vocabulary())


@bp.route("/<uuid:offer_id>")
@requires(OFFERS_VIEW)
def show(offer_id: uuid.UUID):
    return render_template("offers/detail.html", o=queries.views([_offer(offer_id)])[0])


@bp.route("/neu", methods=["GET", "POST"])
@requires(OFFERS_MANAGE)
def new():
    context = _form_context(None)
    if request.method == "GET":
        return render_template("offers/form.html", **context)
    data = load_form(OfferIn(), template="offers/form.html", **context)
    try:
        offer = ops.create_offer(_tenant(), data, actor=g.user, now=utcnow())
    except InvalidInput as e:
        db.session.rollback()
        return render_template("offers/form.html", errors=e.errors, form=request.form, **context), 422
    flash(_("Das Angebot „%(name)s“ wurde angelegt.", name=offer.name), "success")
    return redirect(url_for(".show", offer_id=offer.id))


@bp.route("/<uuid:offer_id>/bearbeiten", methods=["GET", "POST"])
@requires(OFFERS_MANAGE)
def edit(offer_id: uuid.UUID):
    offer = _offer(offer_id)
    context = _form_context(offer)
    if request.method == "GET":
        return render_template("offers/form.html", **context)
    data = load_form(OfferIn(), template="offers/form.html", **context)
    try:
        ops.update_offer(offer, _tenant(), data, actor=g.user, now=utcnow())
    except InvalidInput as e:
        db.session.rollback()
        return render_template("offers/form.html", errors=e.errors, form=request.form, **context), 422
    flash(_("Das Angebot wurde gespeichert."), "success")
    return redirect(url_for(".show", offer_id=offer.id))
