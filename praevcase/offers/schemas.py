"""Input and output schemas of the offers catalogue (shared by the German forms and the API)."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from praevcase.offers.catalogue import AgePhase
from praevcase.offers.catalogue import FieldOfAction
from praevcase.offers.catalogue import OfferType
from praevcase.offers.catalogue import ProviderType
from praevcase.offers.catalogue import Standard
from praevcase.schemas import BaseSchema


def _text(max_len: int, *, required: bool = False, min_len: int = 0) -> fields.String:
    msg = f"Bitte höchstens {max_len} Zeichen." if not min_len else f"Bitte {min_len} bis {max_len} Zeichen."
    return fields.String(required=required, validate=validate.Length(min=min_len, max=max_len, error=msg))


def _codes(enum_cls: type) -> fields.List:
    return fields.List(fields.Enum(enum_cls), load_default=list)


class OfferIn(BaseSchema):
    """A catalogue entry as an admin enters it."""

    name = _text(200, required=True, min_len=2)
    offer_type = fields.Enum(OfferType, required=True)
    description = _text(4000)
    provider_agency_id = fields.UUID(allow_none=True)
    provider_name = _text(200)
    provider_type = fields.Enum(ProviderType, allow_none=True)
    age_phases = _codes(AgePhase)
    fields_of_action = _codes(FieldOfAction)
    sozialraeume = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list)
    municipality = _text(120)
    access = _text(300)
    languages = _text(200)
    contact = _text(300)
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100000,
                                                                       error="Bitte eine Zahl ab 0 angeben."))
    waiting_list = fields.Boolean(load_default=False)
    standards = _codes(Standard)
    source = _text(80)
    is_active = fields.Boolean(load_default=True)

    @validates_schema
    def _provider(self, data: dict, **kwargs: Any) -> None:
        if not data.get("provider_agency_id") and not (data.get("provider_name") or "").strip():
            raise ValidationError("Bitte eine Stelle wählen oder den Anbieter als Text angeben.", "provider_name")
        if not data.get("age_phases"):
            raise ValidationError("Bitte mindestens eine Altersphase wählen.", "age_phases")


class OfferFilterIn(BaseSchema):
    """Search the catalogue."""

    q = _text(100)
    offer_type = fields.Enum(OfferType)
    age_phase = fields.Enum(AgePhase)
    field_of_action = fields.Enum(FieldOfAction)
    sozialraum = _text(100)
    include_inactive = fields.Boolean(load_default=False)


class OfferOut(BaseSchema):
    id = fields.UUID()
    key = fields.String(allow_none=True)
    name = fields.String()
    offer_type = fields.Enum(OfferType)
    offer_type_label = fields.String()
    description = fields.String(allow_none=True)
    provider_agency_id = fields.UUID(allow_none=True)
    provider_name = fields.String(allow_none=True, metadata={"description": "free-text provider or the agency's name"})
    provider_type = fields.Enum(ProviderType, allow_none=True)
    age_phases = fields.List(fields.String())
    fields_of_action = fields.List(fields.String())
    sozialraeume = fields.List(fields.String())
    municipality = fields.String(allow_none=True)
    access = fields.String(allow_none=True)
    languages = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    waiting_list = fields.Boolean()
    active_referrals = fields.Integer(metadata={"description": "referrals of this offer requested, waitlisted or started"})
    standards = fields.List(fields.String())
    source = fields.String(allow_none=True)
    is_active = fields.Boolean()
