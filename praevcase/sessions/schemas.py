"""Input and output schemas of the team and its sessions (shared by the German forms and the API)."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from praevcase.referrals.schemas import ProposalIn
from praevcase.referrals.schemas import ReferralOut
from praevcase.schemas import BaseSchema
from praevcase.sessions.models import Decision
from praevcase.sessions.models import Presence
from workflows.case import ClosingReason
from workflows.review_session import ReviewSessionState

__all__ = ["ProposalIn"]


class GenerateIn(BaseSchema):
    months = fields.Integer(load_default=3, validate=validate.Range(1, 24, error="Bitte 1 bis 24 Monate."))


class SessionIn(BaseSchema):
    """An extra session: day, local start time (Europe/Berlin), length, place."""

    day = fields.Date(required=True)
    start_time = fields.Time(required=True)
    duration_minutes = fields.Integer(load_default=120, validate=validate.Range(15, 480, error="Bitte 15 bis 480 "
                                                                                             "Minuten."))
    place = fields.String(validate=validate.Length(max=200, error="Bitte höchstens 200 Zeichen."))


class RescheduleIn(SessionIn):
    version = fields.Integer(required=True)


class SessionTransitionIn(BaseSchema):
    trigger = fields.String(required=True, validate=validate.Length(1, 40))
    version = fields.Integer(required=True)
    reason = fields.String(validate=validate.Length(max=500, error="Bitte höchstens 500 Zeichen."))


class PresenceIn(BaseSchema):
    presence = fields.Enum(Presence, required=True)
    #: Someone else came instead of the agency's Präventionskraft
    user_id = fields.UUID()


class NotesIn(BaseSchema):
    notes = fields.String(required=True, validate=validate.Length(max=8000, error="Bitte höchstens 8000 Zeichen."))
    #: replace the notes, or add to them (when they are not shown in the room)
    mode = fields.String(load_default="replace", validate=validate.OneOf(["replace", "append"]))


class DecisionIn(BaseSchema):
    """The team's decision about one case."""

    decision = fields.Enum(Decision, required=True)
    lotse_user_id = fields.UUID()
    rereview_date = fields.Date()
    closing_reason = fields.Enum(ClosingReason)
    escalated_to_agency_id = fields.UUID()
    justification = fields.String(validate=validate.Length(max=4000, error="Bitte höchstens 4000 Zeichen."))
    reason = fields.String(validate=validate.Length(max=500, error="Bitte höchstens 500 Zeichen."))

    @validates_schema
    def _complete(self, data: dict, **kwargs: Any) -> None:
        decision = data.get("decision")
        if decision is Decision.assign_lotse and not data.get("lotse_user_id"):
            raise ValidationError("Bitte die Lotsin oder den Lotsen wählen.", "lotse_user_id")
        if decision is Decision.rereview and not data.get("rereview_date"):
            raise ValidationError("Bitte das Datum der Wiedervorlage angeben.", "rereview_date")
        if decision is Decision.close and not data.get("closing_reason"):
            raise ValidationError("Bitte einen Grund für den Abschluss wählen.", "closing_reason")
        if decision is Decision.escalate:
            if not data.get("escalated_to_agency_id"):
                raise ValidationError("Bitte das Jugendamt wählen.", "escalated_to_agency_id")
            if len((data.get("justification") or "").strip()) < 20:
                raise ValidationError("Bitte die konkreten Anhaltspunkte beschreiben (mindestens 20 Zeichen).",
                                      "justification")


class SeatIn(BaseSchema):
    agency_id = fields.UUID(required=True)
    user_id = fields.UUID(allow_none=True)


class SessionListArgs(BaseSchema):
    state = fields.Enum(ReviewSessionState)


# --- output ---------------------------------------------------------------------------------------


class SessionOut(BaseSchema):
    id = fields.UUID()
    state = fields.Enum(ReviewSessionState)
    state_label = fields.String()
    version = fields.Integer()
    starts_dt = fields.DateTime()
    ends_dt = fields.DateTime()
    place = fields.String()
    agenda_cutoff_dt = fields.DateTime()
    cadence_day = fields.Date(allow_none=True)
    held_dt = fields.DateTime(allow_none=True)
    minutes_final_dt = fields.DateTime(allow_none=True)
    ical_uid = fields.String()
    ical_sequence = fields.Integer()
    items = fields.Integer(metadata={"description": "number of cases on the agenda"})


class AttendeeOut(BaseSchema):
    id = fields.UUID()
    agency_id = fields.UUID()
    agency = fields.String()
    user_id = fields.UUID(allow_none=True)
    person = fields.String(allow_none=True)
    presence = fields.Enum(Presence)


class NamesOut(BaseSchema):
    children = fields.List(fields.String())
    adults = fields.List(fields.String())


class AgendaItemOut(BaseSchema):
    """One case on the agenda: names and notes only where the consent covers the caller's agency."""

    id = fields.UUID()
    position = fields.Integer()
    case_id = fields.UUID()
    case_number = fields.String()
    case_state = fields.String()
    team_summary = fields.String()
    age_phase_label = fields.String(allow_none=True)
    needs = fields.List(fields.String())
    names = fields.Nested(NamesOut, allow_none=True)
    names_denied = fields.String(allow_none=True, metadata={"description": "reason code when names are withheld"})
    notes = fields.String(allow_none=True)
    notes_denied = fields.String(allow_none=True)
    decision = fields.Enum(Decision, allow_none=True)
    decision_label = fields.String(allow_none=True)
    lotse = fields.String(allow_none=True)
    rereview_date = fields.Date(allow_none=True)
    closing_reason_label = fields.String(allow_none=True)
    proposals = fields.List(fields.Nested(ReferralOut))


class SessionDetailOut(SessionOut):
    attendees = fields.List(fields.Nested(AttendeeOut))
    agenda = fields.List(fields.Nested(AgendaItemOut))
    permitted_triggers = fields.List(fields.String())


class SeatOut(BaseSchema):
    id = fields.UUID()
    agency_id = fields.UUID()
    agency = fields.String()
    user_id = fields.UUID(allow_none=True)
    person = fields.String(allow_none=True)


class FeedOut(BaseSchema):
    url = fields.String(metadata={"description": "secret calendar URL, shown once; revoke with DELETE"})
