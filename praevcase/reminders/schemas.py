"""Forms of the inbox."""
from __future__ import annotations

from marshmallow import fields

from praevcase.reminders.models import Digest
from praevcase.schemas import BaseSchema


class PreferenceIn(BaseSchema):
    digest = fields.Enum(Digest, required=True)
