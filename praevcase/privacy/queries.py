"""Read side of the data-protection core: the consent log and who may see a family's consents."""
from __future__ import annotations

import uuid
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consent.scopes import ConsentState
from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.audit.queries import day_end
from praevcase.audit.queries import day_start
from praevcase.extensions import db
from praevcase.permissions import effective_roles
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import Family
from praevcase.privacy.vault import grant_of

#: Roles that audit consents of every family of their tenant (metadata only)
AUDITOR_ROLES = frozenset({Role.dpo, Role.admin})


def state_now(rec: ConsentRecord, now: datetime) -> ConsentState:
    """The state that counts at *now* (an expiry takes effect before the sweep persists it)."""
    return grant_of(rec).state_at(now)


def _json_list_contains(column: Any, code: str) -> Any:
    # purposes/recipients are JSON lists of plain codes or UUIDs: the quoted code occurs exactly once
    return sa.cast(column, sa.String).contains(f'"{code}"', autoescape=True)


def _state_filter(state: ConsentState, now: datetime) -> Any:
    c = ConsentRecord
    live = sa.and_(c.state == "active", c.valid_from <= now, sa.or_(c.valid_until.is_(None), c.valid_until > now))
    return {
        ConsentState.active: live,
        ConsentState.pending: sa.and_(c.state == "active", c.valid_from > now),
        ConsentState.expired: sa.or_(c.state == "expired", sa.and_(c.state == "active", c.valid_until <= now)),
        ConsentState.withdrawn: c.state == "withdrawn",
        ConsentState.superseded: c.state == "superseded",
    }[state]


def consent_log_query(*, now: datetime, family_id: uuid.UUID | None = None, purpose: Purpose | None = None,
                      agency_id: uuid.UUID | None = None, state: ConsentState | None = None,
                      since: date | None = None, until: date | None = None) -> sa.Select:
    """Consent records of the session's tenant with family and template, newest first."""
    q = (sa.select(ConsentRecord)
         .join(Family, Family.id == ConsentRecord.family_id)
         .join(ConsentTemplate, ConsentTemplate.id == ConsentRecord.template_id))
    if family_id is not None:
        q = q.where(ConsentRecord.family_id == family_id)
    if purpose is not None:
        q = q.where(_json_list_contains(ConsentRecord.purposes, purpose.value))
    if agency_id is not None:
        q = q.where(sa.or_(_json_list_contains(ConsentRecord.recipient_agency_ids, str(agency_id)),
                           ConsentRecord.obtained_agency_id == agency_id))
    if state is not None:
        q = q.where(_state_filter(state, now))
    if since is not None:
        q = q.where(ConsentRecord.obtained_dt >= day_start(since))
    if until is not None:
        q = q.where(ConsentRecord.obtained_dt < day_end(until))
    return q.order_by(ConsentRecord.obtained_dt.desc(), ConsentRecord.id.desc())


def family_consents(family: Family) -> list[ConsentRecord]:
    return list(db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.family_id == family.id)
                                   .order_by(ConsentRecord.obtained_dt.desc(), ConsentRecord.id.desc())))


def involved(user: Any, family: Family) -> bool:
    """May *user* see this family's consent metadata? Auditors always; staff if their agency holds
    the data, obtained one of its consents or is named as a recipient in one (need to know)."""
    if effective_roles(user) & AUDITOR_ROLES:
        return True
    if user.agency_id == family.holder_agency_id:
        return True
    agency = str(user.agency_id)
    return any(agency in rec.recipient_agency_ids or rec.obtained_agency_id == user.agency_id
               for rec in family_consents(family))


def family_by_case_number(case_number: str) -> Family | None:
    return db.session.scalar(sa.select(Family).where(Family.case_number == case_number.strip().upper()))
