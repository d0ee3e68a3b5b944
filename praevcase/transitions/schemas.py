"""Forms of the transition pages (the content form is built per template in content.py)."""
from __future__ import annotations

from typing import Any

from marshmallow import fields
from marshmallow import validate

from praevcase.privacy.models import ConsentChannel
from praevcase.schemas import BaseSchema
from praevcase.transitions.models import ProtocolKind

NAME = validate.Length(min=1, max=100)


class ProtocolCreateIn(BaseSchema):
    given_name = fields.String(required=True, validate=NAME)
    family_name = fields.String(required=True, validate=NAME)
    birth_date = fields.Date(required=True)
    guardian_given_name = fields.String(required=True, validate=NAME)
    guardian_family_name = fields.String(required=True, validate=NAME)
    second_guardian_given_name = fields.String(load_default=None, validate=NAME)
    second_guardian_family_name = fields.String(load_default=None, validate=NAME)
    receiver_agency_id = fields.UUID(load_default=None)
    school_year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100))

    def guardians(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        out = [{"given_name": data["guardian_given_name"], "family_name": data["guardian_family_name"]}]
        if data.get("second_guardian_given_name") and data.get("second_guardian_family_name"):
            out.append({"given_name": data["second_guardian_given_name"],
                        "family_name": data["second_guardian_family_name"]})
        return out


class ReceiverIn(BaseSchema):
    receiver_agency_id = fields.UUID(required=True)


class ParentTalkIn(BaseSchema):
    parent_talk_on = fields.Date(required=True)


class HandoverConsentIn(BaseSchema):
    recipient_agency_id = fields.UUID(required=True)
    signatories = fields.List(fields.UUID(), required=True, validate=validate.Length(
        min=1, error="Bitte angeben, wer unterschrieben hat."))
    channel = fields.Enum(ConsentChannel, required=True)
    valid_until = fields.Date(load_default=None)


class TriggerIn(BaseSchema):
    expected_version = fields.Integer(load_default=None)
    #: Deferral: why (no personal details, the form says so)
    reason = fields.String(load_default=None, validate=validate.Length(max=500))
    #: Follow-up visit
    follow_up_on = fields.Date(load_default=None)
    note = fields.String(load_default=None, validate=validate.Length(max=4000))
    #: Forward: the child's new school
    to = fields.UUID(load_default=None)


class TemplateIn(BaseSchema):
    """One label per line."""

    areas = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    scale = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    recommendations = fields.String(load_default="", validate=validate.Length(max=2000))


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --- JSON API ---------------------------------------------------------------------------------------


class ProtocolListArgs(BaseSchema):
    kind = fields.Enum(ProtocolKind, load_default=None)
    school_year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100))


class ProtocolTriggerIn(TriggerIn):
    """Fire a trigger of the protocol's workflow (``permitted_triggers`` of the protocol lists yours)."""

    trigger = fields.String(required=True, validate=validate.Length(min=1, max=40))


class ProtocolOut(BaseSchema):
    id = fields.UUID()
    kind = fields.Enum(ProtocolKind)
    case_number = fields.String()
    school_year = fields.Integer()
    state = fields.String()
    state_label = fields.String()
    version = fields.Integer(metadata={"description": "send as expected_version with a trigger"})
    own = fields.Boolean(metadata={"description": "written by your institution (else handed over to it)"})
    author_agency_id = fields.UUID()
    receiver_agency_id = fields.UUID(allow_none=True)
    permitted_triggers = fields.List(fields.String())


class ProtocolDetailOut(ProtocolOut):
    """With the personal data, read through the consent check (each read is in the audit log)."""

    child = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), allow_none=True)
    content = fields.Raw(allow_none=True, metadata={"description": "the latest version you may read, by area"})
    version_number = fields.Integer(allow_none=True)
    denied = fields.String(allow_none=True, metadata={"description": "why personal data is withheld, if it is"})
    handovers = fields.List(fields.Dict())
