"""Input and output schemas of referrals (shared by the German forms and the API)."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from praevcase.offers.catalogue import OfferType
from praevcase.schemas import BaseSchema
from workflows.referral import ReferralState

_NOTE = validate.Length(max=4000, error="Bitte höchstens 4000 Zeichen.")


class ProposalIn(BaseSchema):
    """Propose an offer of the catalogue, or only a kind of offer."""

    offer_id = fields.UUID()
    offer_type = fields.Enum(OfferType)

    @validates_schema
    def _one_of(self, data: dict, **kwargs: Any) -> None:
        if not data.get("offer_id") and not data.get("offer_type"):
            raise ValidationError("Bitte ein Angebot oder eine Art von Angebot wählen.", "offer_id")


class ReferralCreateIn(ProposalIn):
    """API: the Lotse (or the coordinator) proposes an offer for a case."""

    case_id = fields.UUID(required=True)


class ReferralTransitionIn(BaseSchema):
    """Fire a trigger of the referral workflow; feedback and the family's view may come along."""

    trigger = fields.String(required=True, validate=validate.Length(1, 40))
    version = fields.Integer(required=True)
    reason = fields.String(validate=validate.Length(max=500, error="Bitte höchstens 500 Zeichen."))
    #: With ``request``: the concrete offer (and so the provider) …
    offer_id = fields.UUID()
    #: … or a provider outside the catalogue, as text
    provider_name = fields.String(validate=validate.Length(max=200, error="Bitte höchstens 200 Zeichen."))
    provider_feedback = fields.String(validate=_NOTE)
    family_view = fields.String(validate=_NOTE)


class ReferralNotesIn(BaseSchema):
    version = fields.Integer(required=True)
    provider_feedback = fields.String(validate=_NOTE)
    family_view = fields.String(validate=_NOTE)


class ReferralListArgs(BaseSchema):
    case_id = fields.UUID()
    state = fields.Enum(ReferralState)


class ReferralOut(BaseSchema):
    """A referral as the caller may see it: notes only where the consent covers the caller."""

    id = fields.UUID()
    case_id = fields.UUID()
    case_number = fields.String()
    state = fields.Enum(ReferralState)
    state_label = fields.String()
    version = fields.Integer()
    offer_id = fields.UUID(allow_none=True)
    offer_name = fields.String(allow_none=True)
    offer_type = fields.Enum(OfferType)
    offer_type_label = fields.String()
    provider = fields.String(allow_none=True)
    provider_agency_id = fields.UUID(allow_none=True)
    agenda_item_id = fields.UUID(allow_none=True)
    created_dt = fields.DateTime()
    offered_dt = fields.DateTime(allow_none=True)
    answered_dt = fields.DateTime(allow_none=True)
    requested_dt = fields.DateTime(allow_none=True)
    waitlisted_dt = fields.DateTime(allow_none=True)
    started_dt = fields.DateTime(allow_none=True)
    ended_dt = fields.DateTime(allow_none=True)
    provider_feedback = fields.String(allow_none=True)
    family_view = fields.String(allow_none=True)
    notes_denied = fields.String(allow_none=True, metadata={
        "description": "reason code when the consent does not cover the caller (the notes are then null)"})
    permitted_triggers = fields.List(fields.String())
