"""Input and output schemas of the contact log (shared by the German forms and the API)."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from praevcase.cases.schemas import not_in_future
from praevcase.lotse.models import ContactSetting
from praevcase.schemas import BaseSchema


class ContactIn(BaseSchema):
    """One contact with the family: when, where, what, and what comes next."""

    contact_date = fields.Date(required=True, validate=not_in_future)
    setting = fields.Enum(ContactSetting, required=True)
    summary = fields.String(required=True, validate=validate.Length(min=3, max=4000,
                                                                    error="Bitte 3 bis 4000 Zeichen."))
    next_step = fields.String(validate=validate.Length(max=500, error="Bitte höchstens 500 Zeichen."))
    next_step_due = fields.Date()

    @validates_schema
    def _step_and_date(self, data: dict, **kwargs: Any) -> None:
        step = (data.get("next_step") or "").strip()
        if step and not data.get("next_step_due"):
            raise ValidationError("Bitte ein Datum für den nächsten Schritt angeben.", "next_step_due")
        if data.get("next_step_due") and not step:
            raise ValidationError("Bitte den nächsten Schritt beschreiben.", "next_step")


class ContactCreateIn(ContactIn):
    """API: a contact for a case (of which the caller is the Lotse)."""

    case_id = fields.UUID(required=True)


class ContactListArgs(BaseSchema):
    case_id = fields.UUID(required=True)


class ContactOut(BaseSchema):
    id = fields.UUID()
    case_id = fields.UUID()
    contact_date = fields.Date()
    setting = fields.Enum(ContactSetting)
    author = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    next_step = fields.String(allow_none=True)
    next_step_due = fields.Date(allow_none=True)
    denied = fields.String(allow_none=True, metadata={
        "description": "reason code when the consent does not cover the caller (summary and next step are null)"})


class FamilyOut(BaseSchema):
    """One of the Lotse's families: pseudonymous number, children's names (consent permitting), due items."""

    case_id = fields.UUID()
    case_number = fields.String()
    children = fields.List(fields.String(allow_none=True))
    age_phase_label = fields.String(allow_none=True)
    needs = fields.List(fields.String())
    last_contact = fields.Date(allow_none=True)
    days_without_contact = fields.Integer()
    no_contact_overdue = fields.Boolean()
    next_step = fields.String(allow_none=True)
    next_step_due = fields.Date(allow_none=True)
    next_step_overdue = fields.Boolean()
    open_referrals = fields.Integer()
    waiting_on_provider = fields.Integer()
    rereview_date = fields.Date(allow_none=True)
    rereview_due = fields.Boolean()
