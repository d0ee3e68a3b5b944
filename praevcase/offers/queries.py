"""Read side of the catalogue: search, and the view of an offer (labels, provider, occupancy)."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from praevcase.extensions import db
from praevcase.offers import catalogue as cat
from praevcase.offers.models import Offer
from praevcase.tenants.models import Agency

#: Referral states that take a place of an offer (or wait for one)
OCCUPYING_STATES = ("requested", "waitlisted", "started")


def search(filters: dict[str, Any] | None = None) -> list[Offer]:
    """Offers matching *filters* (OfferFilterIn), by type label then name.

    List-valued columns (phases, fields, Sozialräume) are JSON; a catalogue has hundreds of rows,
    so those filters are applied here rather than in dialect-specific SQL.
    """
    f = filters or {}
    q = sa.select(Offer)
    if not f.get("include_inactive"):
        q = q.where(Offer.is_active.is_(True))
    if f.get("offer_type"):
        q = q.where(Offer.offer_type == f["offer_type"])
    if f.get("q"):
        like = f"%{f['q'].strip()}%"
        q = q.where(sa.or_(Offer.name.ilike(like), Offer.description.ilike(like), Offer.provider_name.ilike(like)))
    offers = list(db.session.scalars(q.order_by(Offer.name, Offer.id)))
    phase, field, area = f.get("age_phase"), f.get("field_of_action"), f.get("sozialraum")
    if phase:
        offers = [o for o in offers if phase.value in o.age_phases]
    if field:
        offers = [o for o in offers if field.value in o.fields_of_action]
    if area:
        offers = [o for o in offers if not o.sozialraeume or area in o.sozialraeume]
    return offers


def active_referrals(offer_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many referrals currently take (or wait for) a place of each offer."""
    from praevcase.referrals.models import Referral

    if not offer_ids:
        return {}
    rows = db.session.execute(sa.select(Referral.offer_id, sa.func.count()).where(
        Referral.offer_id.in_(offer_ids), Referral.state.in_(OCCUPYING_STATES)).group_by(Referral.offer_id))
    return {offer_id: n for offer_id, n in rows}


def provider_names(offers: list[Offer]) -> dict[uuid.UUID, str]:
    """The provider shown for each offer: the agency's name, else the free text."""
    ids = {o.provider_agency_id for o in offers if o.provider_agency_id}
    names = dict(db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(ids))).all()) if ids else {}
    return {o.id: names.get(o.provider_agency_id) or o.provider_name or "" for o in offers}


def as_dict(offer: Offer, provider: str, occupied: int) -> dict[str, Any]:
    """An offer with its German labels, for pages and the API."""
    return {
        "id": offer.id, "key": offer.key, "name": offer.name, "offer_type": offer.offer_type,
        "offer_type_label": cat.OFFER_TYPE_LABELS[offer.offer_type], "description": offer.description,
        "provider_agency_id": offer.provider_agency_id, "provider_name": provider,
        "provider_type": offer.provider_type,
        "provider_type_label": cat.PROVIDER_TYPE_LABELS.get(offer.provider_type) if offer.provider_type else None,
        "age_phases": offer.age_phases, "age_phase_labels": cat.labels(offer.age_phases, cat.AGE_PHASE_LABELS),
        "fields_of_action": offer.fields_of_action,
        "field_labels": cat.labels(offer.fields_of_action, cat.FIELD_LABELS),
        "sozialraeume": offer.sozialraeume, "municipality": offer.municipality, "access": offer.access,
        "languages": offer.languages, "contact": offer.contact, "capacity": offer.capacity,
        "waiting_list": offer.waiting_list, "active_referrals": occupied, "standards": offer.standards,
        "standard_labels": cat.labels(offer.standards, cat.STANDARD_LABELS), "source": offer.source,
        "is_active": offer.is_active,
    }


def views(offers: list[Offer]) -> list[dict[str, Any]]:
    """as_dict() for a list, with providers and occupancy read in two queries."""
    providers = provider_names(offers)
    occupied = active_referrals([o.id for o in offers])
    return [as_dict(o, providers[o.id], occupied.get(o.id, 0)) for o in offers]


def choices(age_phase: str | None = None) -> list[tuple[str, str]]:
    """(id, label) of the active offers for a proposal form; the case's age phase first."""
    offers = search()
    providers = provider_names(offers)
    ranked = sorted(offers, key=lambda o: (age_phase not in o.age_phases if age_phase else False,
                                           cat.OFFER_TYPE_LABELS[o.offer_type], o.name))
    return [(str(o.id), f"{o.name} – {providers[o.id]}" if providers[o.id] and providers[o.id] not in o.name
             else o.name) for o in ranked]
