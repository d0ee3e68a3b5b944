"""Use cases of the catalogue: create and change offers (admin). Flush, never commit."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from praevcase.audit.operations import record
from praevcase.database import new_id
from praevcase.errors import InvalidInput
from praevcase.extensions import db
from praevcase.offers.models import Offer
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings

#: Columns an OfferIn sets (everything of the form; never ``Model(**payload)``)
_COLUMNS = ("name", "offer_type", "description", "provider_agency_id", "provider_name", "provider_type",
            "age_phases", "fields_of_action", "sozialraeume", "municipality", "access", "languages", "contact",
            "capacity", "waiting_list", "standards", "source", "is_active")
_LISTS = ("age_phases", "fields_of_action", "standards")


def _checked(tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
    """Values ready for the row: the agency is of this tenant, the Sozialräume are the tenant's."""
    errors: dict[str, list[str]] = {}
    agency_id = data.get("provider_agency_id")
    if agency_id is not None:
        agency = db.session.get(Agency, agency_id)
        if agency is None or not agency.is_active:
            errors["provider_agency_id"] = ["Bitte eine Stelle aus der Liste wählen."]
    known = set(effective_settings(tenant.settings).get("sozialraeume") or [])
    unknown = [s for s in data.get("sozialraeume") or [] if s not in known]
    if unknown:
        errors["sozialraeume"] = ["Bitte nur Sozialräume aus der Liste wählen."]
    if errors:
        raise InvalidInput(errors=errors)
    values = {c: data.get(c) for c in _COLUMNS}
    for column in _LISTS:
        values[column] = sorted({getattr(v, "value", v) for v in values[column] or []})
    values["sozialraeume"] = list(dict.fromkeys(values["sozialraeume"] or []))
    for column in ("description", "provider_name", "municipality", "access", "languages", "contact", "source"):
        text = (values[column] or "").strip()
        values[column] = text or None
    values["waiting_list"] = bool(values["waiting_list"])
    values["is_active"] = True if values["is_active"] is None else bool(values["is_active"])
    return values


def create_offer(tenant: Tenant, data: dict[str, Any], *, actor: Any, now: datetime, key: str | None = None) -> Offer:
    offer = Offer(id=new_id(), tenant_id=tenant.id, key=key, created_dt=now, **_checked(tenant, data))
    db.session.add(offer)
    db.session.flush()
    record(db.session, "offer.create", now=now, actor=actor, tenant_id=tenant.id, object_type="offer",
           object_id=offer.id, details={"offer_type": offer.offer_type.value})
    return offer


def update_offer(offer: Offer, tenant: Tenant, data: dict[str, Any], *, actor: Any, now: datetime) -> Offer:
    values = _checked(tenant, data)
    changed = sorted(c for c, v in values.items() if getattr(offer, c) != v)
    for column, value in values.items():
        setattr(offer, column, value)
    offer.updated_dt, offer.updated_by_id = now, getattr(actor, "id", None)
    db.session.flush()
    record(db.session, "offer.update", now=now, actor=actor, tenant_id=tenant.id, object_type="offer",
           object_id=offer.id, details={"changed": changed})
    return offer
