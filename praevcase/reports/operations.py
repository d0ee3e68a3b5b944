"""Use cases of the reports: denominators of the reach rates, and the audit record of exports."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from praevcase.audit.operations import record
from praevcase.audit.queries import ACTION_LABELS
from praevcase.cases.catalogue import IntakeChannel
from praevcase.database import new_id
from praevcase.errors import InvalidInput
from praevcase.extensions import db
from praevcase.reports.definitions import Filters
from praevcase.reports.models import ReachDenominator
from praevcase.tenants.settings import effective_settings

ACTION_LABELS.setdefault("reports.export", "Bericht exportiert (zusammengefasste Zahlen)")
ACTION_LABELS.setdefault("reports.denominator", "Bezugsgröße einer Erreichungsquote geändert")


def set_denominator(tenant: Any, data: dict[str, Any], *, actor: Any, now: datetime) -> ReachDenominator:
    """Create or replace the denominator of one programme, kind, period and Sozialraum."""
    errors: dict[str, list[str]] = {}
    if data["programme"] not in {c.value for c in IntakeChannel}:
        errors["programme"] = ["Bitte einen Zugang aus der Liste wählen."]
    sozialraum = data.get("sozialraum") or ""
    if sozialraum and sozialraum not in effective_settings(tenant.settings)["sozialraeume"]:
        errors["sozialraum"] = ["Diesen Sozialraum gibt es in den Einstellungen der Kommune nicht."]
    if errors:
        raise InvalidInput(errors=errors)
    row = db.session.scalar(sa.select(ReachDenominator).where(
        ReachDenominator.tenant_id == tenant.id, ReachDenominator.programme == data["programme"],
        ReachDenominator.kind == data["kind"], ReachDenominator.year == data["year"],
        ReachDenominator.half == data["half"], ReachDenominator.sozialraum == sozialraum).with_for_update())
    if row is None:
        row = ReachDenominator(id=new_id(), tenant_id=tenant.id, created_dt=now, programme=data["programme"],
                               kind=data["kind"], year=data["year"], half=data["half"], sozialraum=sozialraum)
        db.session.add(row)
    row.value, row.source_note = data["value"], data.get("source_note")
    row.updated_by_id, row.updated_dt = actor.id, now
    db.session.flush()
    record(db.session, "reports.denominator", now=now, actor=actor, object_type="reach_denominator",
           object_id=row.id, details={"programme": row.programme, "kind": row.kind, "year": row.year,
                                      "half": row.half, "sozialraum": row.sozialraum, "value": row.value})
    return row


def delete_denominator(row: ReachDenominator, *, actor: Any, now: datetime) -> None:
    record(db.session, "reports.denominator", now=now, actor=actor, object_type="reach_denominator",
           object_id=row.id, details={"deleted": True, "programme": row.programme, "year": row.year,
                                      "half": row.half})
    db.session.delete(row)
    db.session.flush()


def record_export(report: str, fmt: str, filters: Filters, *, actor: Any, now: datetime) -> None:
    """Exports leave the system: each one is an audit event (which report, format and filters)."""
    record(db.session, "reports.export", now=now, actor=actor, object_type="report", object_id=report,
           details={"format": fmt, **filters.as_args()})
