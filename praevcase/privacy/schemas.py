"""Forms and API schemas of the data-protection core (metadata only: no personal value in any *Out)."""
from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from consent.scopes import ConsentState
from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ErasureReason
from praevcase.schemas import BaseSchema

#: Channels a withdrawal may come through — the same as for giving consent, and more (Art. 7(3) DSGVO)
WITHDRAWAL_CHANNELS = {"in_person": "persönlich", "phone": "telefonisch", "written": "schriftlich",
                       "electronic": "elektronisch"}
CONSENT_CHANNELS = {ConsentChannel.written: "schriftlich", ConsentChannel.electronic: "elektronisch",
                    ConsentChannel.oral_documented: "mündlich (dokumentiert)"}
ERASURE_REASONS = {
    ErasureReason.request: "Die Familie verlangt die Löschung (Art. 17 Abs. 1 lit. b/c DSGVO)",
    ErasureReason.purpose_ended: "Zweck entfallen (Art. 17 Abs. 1 lit. a DSGVO)",
    ErasureReason.unlawful: "Unrechtmäßig verarbeitet (Art. 17 Abs. 1 lit. d DSGVO)",
    ErasureReason.other: "Sonstiger Grund (siehe Vermerk)",
}


class WithdrawIn(BaseSchema):
    """One step, as easy as giving: the channel, nothing else (the version guards against a stale page)."""

    via = fields.String(required=True, validate=validate.OneOf(list(WITHDRAWAL_CHANNELS),
                                                               error="Bitte den Weg des Widerrufs wählen."),
                        error_messages={"required": "Bitte den Weg des Widerrufs wählen."})
    expected_version = fields.Integer(load_default=None)


class ConsentRecordIn(BaseSchema):
    """A new consent (optionally superseding an earlier one of the family)."""

    template_id = fields.UUID(required=True)
    purposes = fields.List(fields.Enum(Purpose), required=True,
                           validate=validate.Length(min=1, error="Bitte mindestens einen Zweck auswählen."))
    categories = fields.List(fields.Enum(DataCategory), required=True,
                             validate=validate.Length(min=1, error="Bitte mindestens eine Datenart auswählen."))
    recipient_agency_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(
        min=1, error="Bitte mindestens eine empfangende Stelle auswählen."))
    signatory_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(
        min=1, error="Bitte die unterschreibenden Personen angeben."))
    channel = fields.Enum(ConsentChannel, required=True)
    valid_until = fields.Date(load_default=None)
    supersedes_id = fields.UUID(load_default=None)


class ErasureRequestIn(BaseSchema):
    reason = fields.Enum(ErasureReason, required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class ConsentLogFilterIn(BaseSchema):
    case_number = fields.String(load_default=None, validate=validate.Length(max=24))
    purpose = fields.Enum(Purpose, load_default=None)
    agency_id = fields.UUID(load_default=None)
    state = fields.Enum(ConsentState, load_default=None)
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100000))


class FamilyLookupIn(BaseSchema):
    case_number = fields.String(required=True, validate=validate.Length(min=3, max=24))


class ConsentOut(BaseSchema):
    """Consent metadata: scope, recipients, lifecycle. The child's view and the evidence stay sealed."""

    id = fields.UUID()
    family_id = fields.UUID()
    template_id = fields.UUID()
    purposes = fields.List(fields.String())
    categories = fields.List(fields.String())
    recipient_agency_ids = fields.List(fields.String())
    channel = fields.Function(lambda r: r.channel.value)
    obtained_agency_id = fields.UUID()
    obtained_dt = fields.DateTime()
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True)
    state = fields.Function(lambda r: r.state.value)
    withdrawn_dt = fields.DateTime(allow_none=True)
    withdrawn_via = fields.String(allow_none=True)
    superseded_dt = fields.DateTime(allow_none=True)
    superseded_by_id = fields.UUID(allow_none=True)
    has_evidence = fields.Function(lambda r: r.evidence_sha256 is not None)
    version = fields.Integer()


class SubjectAccessOut(BaseSchema):
    """The Art. 15 report as JSON (see praevcase.privacy.report)."""

    generated_at = fields.String()
    tenant = fields.String()
    family = fields.Dict()
    persons = fields.List(fields.Dict())
    consents = fields.List(fields.Dict())
    recipients = fields.List(fields.Dict())
    access_log = fields.List(fields.Dict())
    retention = fields.Dict()
    sections = fields.List(fields.Dict())
