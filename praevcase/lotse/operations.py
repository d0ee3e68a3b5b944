"""Use cases of the Lotse: log a contact (sealed), and the case steps taken from the workspace.

Operations take the actor and the clock, flush and never commit.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from praevcase.audit.operations import record
from praevcase.cases.models import Case
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.lotse.models import Contact
from praevcase.lotse.permissions import may_log_contact
from praevcase.privacy.models import Family
from praevcase.privacy.vault import seal
from workflows.case import CaseState


def log_contact(case: Case, data: dict[str, Any], *, actor: Any, now: datetime) -> Contact:
    """Record a contact of the Lotse with the family; summary and next step are sealed (case_notes)."""
    if not may_log_contact(actor, case):
        raise PermissionDenied("Kontakte trägt die Lotsin oder der Lotse der Familie ein.")
    if case.state is not CaseState.in_support:
        raise Conflict("Kontakte werden erfasst, solange die Familie begleitet wird.")
    family = db.session.get(Family, case.family_id)
    step = (data.get("next_step") or "").strip() or None
    contact = Contact(id=new_id(), tenant_id=case.tenant_id, case_id=case.id, author_id=actor.id,
                      contact_date=data["contact_date"], setting=data["setting"],
                      next_step_due=data.get("next_step_due") if step else None, created_dt=now)
    seal(family, contact, "summary", data["summary"].strip())
    seal(family, contact, "next_step", step)
    db.session.add(contact)
    if case.first_contact_on is None or contact.contact_date < case.first_contact_on:
        case.first_contact_on = contact.contact_date  # the reports' milestone
    db.session.flush()
    record(db.session, "lotse.contact", now=now, actor=actor, object_type="lotse_contact", object_id=contact.id,
           family_ref=family.id, details={"case_id": str(case.id), "setting": contact.setting.value,
                                          "next_step": step is not None})
    return contact
