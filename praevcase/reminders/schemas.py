"""Forms of the inbox."""
from __future__ import annotations

from marshmallow import fields

from praevcase.reminders.models import Digest
from praevcase.schemas import BaseSchema


class PreferenceIn(BaseSchema):
    digest = fields.Enum(Digest, required=True)


class ReminderOut(BaseSchema):
    """One reminder of the inbox: what, about which case (pseudonymous number), until when."""

    id = fields.UUID()
    kind = fields.String(metadata={"description": "reminder kind, e.g. u1_handover_due, retention_due"})
    label = fields.String(metadata={"description": "German title"})
    text = fields.String(metadata={"description": "German sentence; never a name"})
    case_number = fields.String(allow_none=True)
    link_path = fields.String(metadata={"description": "page of the web interface the reminder leads to"})
    opens_dt = fields.DateTime()
    due_dt = fields.DateTime()
    overdue = fields.Boolean()
    state = fields.String()


class DigestOut(BaseSchema):
    digest = fields.Enum(Digest)
