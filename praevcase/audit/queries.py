"""Read side of the audit log: filtered, paginated, always within one tenant."""
from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from praevcase.audit.models import AuditEvent

LOCAL = ZoneInfo("Europe/Berlin")

#: German names of audit actions (prefixes ending in "." name a group)
ACTION_LABELS = {
    "data.reveal": "Zugriff auf personenbezogene Daten",
    "consent.": "Einwilligungen (alle)",
    "consent.give": "Einwilligung erfasst",
    "consent.withdraw": "Widerruf erfasst",
    "consent.transition": "Statuswechsel einer Einwilligung",
    "consent.template.create": "Einwilligungstext angelegt",
    "family.create": "Familie angelegt",
    "privacy.": "Datenschutz (alle)",
    "privacy.subject_access": "Auskunft nach Art. 15 DSGVO erstellt",
    "privacy.erasure.request": "Löschung beantragt",
    "privacy.erasure.cancel": "Löschantrag zurückgezogen",
    "privacy.erasure": "Familie gelöscht (Schlüssel vernichtet)",
    "privacy.retention": "Löschfristenlauf",
    "audit.": "Protokollprüfung (alle)",
    "audit.log.view": "Protokoll eingesehen",
    "audit.verify": "Protokollkette geprüft",
    "keys.": "Schlüsselverwaltung (alle)",
    "auth.": "Anmeldung und Sitzungen (alle)",
    "auth.login": "Anmeldung",
    "auth.logout": "Abmeldung",
    "admin.": "Verwaltung (alle)",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action.endswith(".transition"):
        return f"Statuswechsel ({action.removesuffix('.transition')})"
    return action


@dataclass(frozen=True)
class Page:
    """One page of a result list."""

    items: Sequence[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(session: Session, query: sa.Select, *, page: int, per_page: int) -> Page:
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, page)
    items = session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return Page(items, total, page, per_page)


def day_start(d: date) -> datetime:
    """Start of a local (German) calendar day."""
    return datetime.combine(d, time.min, tzinfo=LOCAL)


def day_end(d: date) -> datetime:
    return day_start(d + timedelta(days=1))


def events_query(tenant_id: uuid.UUID, *, action: str | None = None, outcome: str | None = None,
                 family_id: uuid.UUID | None = None, since: date | None = None,
                 until: date | None = None) -> sa.Select:
    """Events of one tenant, newest first. AuditEvent is not tenant-scoped: the filter is explicit."""
    q = sa.select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if action:
        q = q.where(AuditEvent.action.startswith(action, autoescape=True) if action.endswith(".")
                    else AuditEvent.action == action)
    if outcome:
        q = q.where(AuditEvent.outcome == outcome)
    if family_id is not None:
        q = q.where(AuditEvent.family_ref == family_id)
    if since is not None:
        q = q.where(AuditEvent.occurred_dt >= day_start(since))
    if until is not None:
        q = q.where(AuditEvent.occurred_dt < day_end(until))
    return q.order_by(AuditEvent.occurred_dt.desc(), AuditEvent.id.desc())


def family_events(family_id: uuid.UUID, tenant_id: uuid.UUID) -> sa.Select:
    """Every event about one family, oldest first (subject-access report)."""
    return (sa.select(AuditEvent)
            .where(AuditEvent.tenant_id == tenant_id, AuditEvent.family_ref == family_id)
            .order_by(AuditEvent.occurred_dt, AuditEvent.id))
