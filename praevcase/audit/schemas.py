"""Filters of the audit-log page (query string, validated like every form)."""
from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from praevcase.schemas import BaseSchema

OUTCOME_LABELS = {"ok": "erfolgreich", "granted": "gewährt", "denied": "verweigert", "failed": "fehlgeschlagen"}


class AuditFilterIn(BaseSchema):
    #: an action code or a group prefix ending in "." (codes only: free text never reaches the log)
    action = fields.String(load_default=None, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$", error="Bitte eine Aktion aus der Liste wählen."))
    outcome = fields.String(load_default=None, validate=validate.OneOf(list(OUTCOME_LABELS)))
    case_number = fields.String(load_default=None, validate=validate.Length(max=24))
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100000))
