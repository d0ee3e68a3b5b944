"""API: agencies of the own tenant."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import g
from flask_smorest import Blueprint

from praevcase.api import page_offset
from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.permissions import requires
from praevcase.tenants import operations as ops
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.tenants.schemas import AgencyIn
from praevcase.tenants.schemas import AgencyOut

blp = Blueprint("agencies_api", __name__, url_prefix="/api/v1/agencies", description="Stellen")


def _get(agency_id: uuid.UUID) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound()
    return agency


@blp.route("/")
@requires("directory.read")
@blp.paginate()
@blp.response(200, AgencyOut(many=True))
def list_agencies(pagination_parameters):
    """Agencies of the own tenant, by name (paginated: page, page_size; X-Pagination header)."""
    q = sa.select(Agency).order_by(Agency.name, Agency.id)
    pagination_parameters.item_count = db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    return db.session.scalars(
        q.offset(page_offset(pagination_parameters)).limit(pagination_parameters.page_size)
    ).all()


@blp.route("/<uuid:agency_id>")
@requires("directory.read")
@blp.response(200, AgencyOut)
def get_agency(agency_id: uuid.UUID):
    """One agency of the own tenant (404 for any other id)."""
    return _get(agency_id)


@blp.route("/", methods=["POST"])
@requires("admin.agencies")
@blp.arguments(AgencyIn)
@blp.response(201, AgencyOut)
def create_agency(data):
    """Create an agency (admin)."""
    tenant = db.session.get(Tenant, g.user.tenant_id)
    return ops.create_agency(tenant, name=data["name"], kind=data["kind"], sozialraum=data["sozialraum"],
                             actor=g.user, now=utcnow())


@blp.route("/<uuid:agency_id>", methods=["PUT"])
@requires("admin.agencies")
@blp.arguments(AgencyIn)
@blp.response(200, AgencyOut)
def update_agency(data, agency_id: uuid.UUID):
    """Replace an agency's name, kind, Sozialraum and active flag (admin)."""
    return ops.update_agency(_get(agency_id), name=data["name"], kind=data["kind"], sozialraum=data["sozialraum"],
                             is_active=data["is_active"], actor=g.user, now=utcnow())
