"""Tenant settings: one validated document per tenant, with NRW defaults."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate


class SessionCadenceSchema(Schema):
    """When the monthly Schnittstellengespräch takes place (e.g. 2nd Wednesday, 14:00)."""

    week_of_month = fields.Integer(load_default=2, validate=validate.Range(1, 4))
    weekday = fields.Integer(load_default=2, validate=validate.Range(0, 6))  # 0 = Monday
    time = fields.String(load_default="14:00", validate=validate.Regexp(r"^\d{2}:\d{2}$"))
    place = fields.String(load_default="Präventionsbüro")
    agenda_cutoff_days = fields.Integer(load_default=7, validate=validate.Range(0, 28))


class RetentionSchema(Schema):
    """Retention deadlines per class, counted from the end of the purpose."""

    closed_case_months = fields.Integer(load_default=36, validate=validate.Range(1, 240))
    refused_consent_months = fields.Integer(load_default=6, validate=validate.Range(1, 120))
    audit_months = fields.Integer(load_default=120, validate=validate.Range(12, 360))


class SchoolCalendarSchema(Schema):
    """NRW defaults: school year from 1 August, school-entry cut-off birthday 30 September."""

    school_year_start = fields.String(load_default="08-01")
    entry_cutoff = fields.String(load_default="09-30")
    half_year_report = fields.String(load_default="01-31")


class TenantSettingsSchema(Schema):
    """The whole settings document of a tenant."""

    session_cadence = fields.Nested(SessionCadenceSchema, load_default=lambda: {})
    suppression_k = fields.Integer(load_default=5, validate=validate.Range(2, 50))
    consent_age_threshold = fields.Integer(load_default=14, validate=validate.Range(10, 18))
    retention = fields.Nested(RetentionSchema, load_default=lambda: {})
    school_calendar = fields.Nested(SchoolCalendarSchema, load_default=lambda: {})
    sozialraeume = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list)
    u2_handover_basis = fields.String(
        load_default="consent", validate=validate.OneOf(["consent", "school_law"])
    )


_schema = TenantSettingsSchema()


def effective_settings(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Return the stored settings completed with defaults (nested defaults included)."""
    loaded = _schema.load(raw or {})
    for key in ("session_cadence", "retention", "school_calendar"):
        nested = _schema.fields[key].schema  # type: ignore[attr-defined]
        loaded[key] = nested.load(loaded.get(key) or {})
    return loaded
