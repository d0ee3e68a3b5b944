"""Use cases of referrals: propose, fire the referral workflow, record feedback. Flush, never commit.

Every state change goes through praevcase.statemachine.transition() on a row locked with
:func:`lock_referral`; the columns the new state needs (dates, provider) are set after the
trigger fired, in the same flush, so a refused trigger changes nothing.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from praevcase.audit.operations import record
from praevcase.cases.models import Case
from praevcase.cases.queries import can_see
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.errors import PermissionDenied
from praevcase.errors import StaleObject
from praevcase.extensions import db
from praevcase.offers.catalogue import OfferType
from praevcase.offers.models import Offer
from praevcase.privacy.models import Family
from praevcase.privacy.vault import seal
from praevcase.referrals.models import Referral
from praevcase.referrals.permissions import may_propose
from praevcase.statemachine import transition
from workflows import WORKFLOWS
from workflows.case import CaseState
from workflows.referral import ReferralState

REFERRAL = WORKFLOWS["referral"]
STALE_MESSAGE = "Jemand anderes hat diese Vermittlung inzwischen geändert. Bitte laden Sie die Seite neu."
#: Case states in which referrals are proposed (in the session) and worked on (by the Lotse)
PROPOSAL_STATES = (CaseState.on_agenda, CaseState.in_support)

_S = ReferralState
#: dest state -> the date column it sets
_DATES = {_S.offered: "offered_dt", _S.accepted: "answered_dt", _S.declined: "answered_dt",
          _S.requested: "requested_dt", _S.waitlisted: "waitlisted_dt", _S.started: "started_dt"}
_ENDED = {_S.declined, _S.completed, _S.dropped, _S.cancelled}


def active_offer(offer_id: uuid.UUID) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or not offer.is_active:
        raise InvalidInput(errors={"offer_id": ["Bitte ein aktives Angebot aus dem Katalog wählen."]})
    return offer


def propose(case: Case, *, offer: Offer | None = None, offer_type: OfferType | None = None,
            agenda_item_id: uuid.UUID | None = None, actor: Any, now: datetime) -> Referral:
    """A new referral in ``proposed``: an offer of the catalogue, or only the kind of offer."""
    if not may_propose(actor, case):
        raise PermissionDenied()
    if case.state not in PROPOSAL_STATES:
        raise Conflict("Angebote werden vorgeschlagen, solange der Fall beim Team oder in Begleitung ist.")
    if offer is None and offer_type is None:
        raise InvalidInput(errors={"offer_id": ["Bitte ein Angebot oder eine Art von Angebot wählen."]})
    referral = Referral(
        id=new_id(), tenant_id=case.tenant_id, case_id=case.id, state=ReferralState.proposed,
        offer_id=offer.id if offer else None, offer_type=offer.offer_type if offer else offer_type,
        provider_agency_id=offer.provider_agency_id if offer else None,
        provider_name=offer.provider_name if offer else None, agenda_item_id=agenda_item_id,
        proposed_by_id=actor.id, created_dt=now)
    db.session.add(referral)
    db.session.flush()
    record(db.session, "referral.propose", now=now, actor=actor, object_type="referral", object_id=referral.id,
           family_ref=case.family_id, details={"offer_type": referral.offer_type.value,
                                               "offer_id": str(offer.id) if offer else None,
                                               "in_session": agenda_item_id is not None})
    return referral


def lock_referral(referral_id: uuid.UUID, actor: Any) -> Referral:
    """Load the referral ``FOR UPDATE`` (fresh); 404 unless *actor* may see its case."""
    referral = db.session.scalar(sa.select(Referral).where(Referral.id == referral_id)
                                 .with_for_update(of=Referral).execution_options(populate_existing=True))
    if referral is None or not can_see(actor, referral.case):
        raise NotFound()
    return referral


def _family(referral: Referral) -> Family:
    return db.session.get(Family, referral.case.family_id)


def _seal_notes(referral: Referral, *, provider_feedback: str | None, family_view: str | None) -> list[str]:
    written = []
    family = None
    for column, text in (("provider_feedback", provider_feedback), ("family_view", family_view)):
        if text is not None and text.strip():
            family = family or _family(referral)
            seal(family, referral, column, text.strip())
            written.append(column)
    return written


def fire_referral(referral: Referral, trigger: str, *, actor: Any, now: datetime,
                  expected_version: int | None = None, reason: str | None = None, offer: Offer | None = None,
                  provider_name: str | None = None, provider_feedback: str | None = None,
                  family_view: str | None = None) -> Referral:
    """Apply *trigger* to a locked referral; a provider (offer or free text) may be named with ``request``."""
    if expected_version is not None and expected_version != referral.version:
        raise StaleObject(STALE_MESSAGE)
    if trigger not in REFERRAL.triggers:
        raise InvalidInput(errors={"trigger": ["Unbekannte Aktion."]})
    if trigger != "cancel" and referral.case.state is not CaseState.in_support:
        raise Conflict("Eine Vermittlung wird fortgeschrieben, solange der Fall in Begleitung ist.")
    provider = offer or (provider_name or "").strip() or None
    details: dict[str, Any] = {"offer_type": referral.offer_type.value}
    source, dest = transition(REFERRAL, referral, trigger, actor=actor, now=now, reason=reason,
                              family_ref=referral.case.family_id, details=details, provider=provider)
    if trigger == "request" and offer is not None:
        referral.offer_id, referral.offer_type = offer.id, offer.offer_type
        referral.provider_agency_id, referral.provider_name = offer.provider_agency_id, offer.provider_name
    elif trigger == "request" and provider is not None:
        referral.provider_agency_id, referral.provider_name = None, provider
    if dest in _DATES:
        setattr(referral, _DATES[dest], now)
    if dest in _ENDED:
        referral.ended_dt = now
    written = _seal_notes(referral, provider_feedback=provider_feedback, family_view=family_view)
    if written:
        record(db.session, "referral.notes", now=now, actor=actor, object_type="referral", object_id=referral.id,
               family_ref=referral.case.family_id, details={"fields": written})
    db.session.flush()
    return referral


def record_notes(referral: Referral, *, provider_feedback: str | None, family_view: str | None, actor: Any,
                 now: datetime, expected_version: int | None = None) -> Referral:
    """The provider's feedback or the family's view, outside a step (sealed, case_notes)."""
    if expected_version is not None and expected_version != referral.version:
        raise StaleObject(STALE_MESSAGE)
    if not may_propose(actor, referral.case):
        raise PermissionDenied()
    written = _seal_notes(referral, provider_feedback=provider_feedback, family_view=family_view)
    if not written:
        raise InvalidInput(errors={"provider_feedback": ["Bitte eine Rückmeldung oder die Sicht der Familie "
                                                         "eintragen."]})
    referral.version += 1
    record(db.session, "referral.notes", now=now, actor=actor, object_type="referral", object_id=referral.id,
           family_ref=referral.case.family_id, details={"fields": written})
    db.session.flush()
    return referral
