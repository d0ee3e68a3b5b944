"""Tenant settings: one validated document per tenant, with NRW defaults."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema


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


def _days(default: int, low: int = 0, high: int = 365) -> fields.Integer:
    return fields.Integer(load_default=default, validate=validate.Range(low, high))


class RemindersSchema(Schema):
    """Reminder corridors ("Übergangskorridore") and thresholds, in days unless named otherwise.

    Kinds of other features read their own keys here (praevcase/reminders/__init__.py).
    """

    u1_handover_opens_days = _days(120, 1)  # before school start
    u1_handover_due_days = _days(14)  # before school start: overdue after
    u1_follow_up_opens_days = _days(28)  # after school start
    u1_follow_up_due_days = _days(120, 1)  # after school start: overdue after
    u2_issue_opens_days = _days(42, 1)  # before the grade-4 half-year report
    u2_issue_due_days = _days(0)  # after the half-year report: overdue after
    handover_receipt_days = _days(14, 1)  # a handed-over protocol not confirmed after N days
    consent_expiring_days = _days(30, 1)  # before a consent's valid_until
    lotse_no_contact_days = _days(42, 1)  # Lotse without contact to the family
    agenda_cutoff_notice_days = _days(3, 0, 28)  # before the agenda cutoff of a review session
    rereview_notice_days = _days(7, 0, 90)  # before a case's next review
    referral_not_started_days = _days(28, 1)  # referral requested but not started
    retention_notice_days = _days(30, 1)  # before a retention deadline
    digest_hour = fields.Integer(load_default=7, validate=validate.Range(0, 23))  # local hour of the daily digest

    @validates_schema
    def _corridors_open_before_due(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["u1_handover_opens_days"] <= data["u1_handover_due_days"]:
            raise ValidationError("Der Übergabe-Korridor muss sich vor seinem Ende öffnen.", "u1_handover_due_days")
        if data["u1_follow_up_opens_days"] >= data["u1_follow_up_due_days"]:
            raise ValidationError("Der Nachgesprächs-Korridor muss sich vor seinem Ende öffnen.",
                                  "u1_follow_up_due_days")


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
    reminders = fields.Nested(RemindersSchema, load_default=lambda: {})


_schema = TenantSettingsSchema()


def effective_settings(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Return the stored settings completed with defaults (nested defaults included)."""
    loaded = _schema.load(raw or {})
    for key in ("session_cadence", "retention", "school_calendar", "reminders"):
        nested = _schema.fields[key].schema  # type: ignore[attr-defined]
        loaded[key] = nested.load(loaded.get(key) or {})
    return loaded
