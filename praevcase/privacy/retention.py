"""Retention deadlines that run by themselves: which families are due for erasure, and erasing them.

A family is due when at least one *rule* says its purpose ended long enough ago, and no *hold*
keeps it. Both are registries of predicates, one per feature, each returning a SELECT of family
ids for one tenant (so the due query stays one SQL statement, however many features join):

* ``register_retention_rule(name, fn)`` — "due by this feature's clock";
* ``register_retention_hold(name, fn)`` — "must be kept" (an open case, a legal hold, …).

``fn(tenant_id, retention, now) -> sa.Select`` gets the tenant's ``settings["retention"]``
(``closed_case_months``, ``refused_consent_months``, ``audit_months``).

Registered here: the rule ``consents_ended`` — every consent of the family ended (withdrawn,
expired or superseded) more than ``refused_consent_months`` ago, or none was ever given and the
family was created before then. The cases feature registers its rule "case closed for
``closed_case_months``" and its hold "a case is still open" the same way (see cases/retention).

Erasing is idempotent: erased families are never due again, so a second run changes nothing.
"""
from __future__ import annotations

import calendar
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from praevcase.audit.operations import record
from praevcase.extensions import db
from praevcase.privacy.erasure import erase_family
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Family
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings

RetentionPredicate = Callable[[uuid.UUID, dict[str, Any], datetime], sa.Select]

#: name -> predicate selecting family ids whose retention period has run out
RETENTION_RULES: dict[str, RetentionPredicate] = {}
#: name -> predicate selecting family ids that must be kept regardless
RETENTION_HOLDS: dict[str, RetentionPredicate] = {}


def register_retention_rule(name: str, fn: RetentionPredicate) -> RetentionPredicate:
    """Add a rule "these families are due" (a feature's clock, e.g. case closed for N months)."""
    RETENTION_RULES[name] = fn
    return fn


def register_retention_hold(name: str, fn: RetentionPredicate) -> RetentionPredicate:
    """Add a hold "these families must be kept" (e.g. an open case); holds beat rules."""
    RETENTION_HOLDS[name] = fn
    return fn


def months_before(now: datetime, months: int) -> datetime:
    """The same wall-clock instant *months* calendar months earlier (day clamped to the month's end)."""
    index = now.year * 12 + (now.month - 1) - months
    year, month = divmod(index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def _ended_by(cutoff: datetime) -> sa.ColumnElement[bool]:
    """The consent ended (withdrawn, expired or superseded) at or before *cutoff*; never NULL."""
    c = ConsentRecord
    return sa.or_(*(sa.and_(col.is_not(None), col <= cutoff) for col in (c.withdrawn_dt, c.valid_until,
                                                                         c.superseded_dt)))


def consents_ended(tenant_id: uuid.UUID, retention: dict[str, Any], now: datetime) -> sa.Select:
    """Families whose every consent ended more than refused_consent_months ago (or that never had one)."""
    cutoff = months_before(now, retention["refused_consent_months"])
    still_live = (sa.select(ConsentRecord.id)
                  .where(ConsentRecord.family_id == Family.id, sa.not_(_ended_by(cutoff)))
                  .correlate(Family))
    return sa.select(Family.id).where(Family.tenant_id == tenant_id, Family.created_dt <= cutoff,
                                      ~sa.exists(still_live))


register_retention_rule("consents_ended", consents_ended)


def _union(selects: list[sa.Select]) -> Any:
    return selects[0] if len(selects) == 1 else sa.union(*selects)


def due_query(tenant_id: uuid.UUID, retention: dict[str, Any], now: datetime) -> sa.Select:
    """Families of the tenant that some rule makes due and no hold keeps, not yet erased."""
    q = sa.select(Family).where(Family.tenant_id == tenant_id, Family.erased_dt.is_(None))
    rules = [fn(tenant_id, retention, now) for fn in RETENTION_RULES.values()]
    if not rules:
        return q.where(sa.false())
    q = q.where(Family.id.in_(_union(rules)))
    holds = [fn(tenant_id, retention, now) for fn in RETENTION_HOLDS.values()]
    if holds:
        q = q.where(Family.id.not_in(_union(holds)))
    return q.order_by(Family.created_dt, Family.id)


def due_families(tenant: Tenant, now: datetime, *, lock: bool = False) -> list[Family]:
    retention = effective_settings(tenant.settings)["retention"]
    q = due_query(tenant.id, retention, now)
    if lock:
        q = q.with_for_update(skip_locked=True, of=Family)
    return list(db.session.scalars(q))


@dataclass
class RetentionResult:
    tenant_slug: str
    due: list[str] = field(default_factory=list)
    erased: int = 0


def apply_retention(tenant: Tenant, *, now: datetime, dry_run: bool = False) -> RetentionResult:
    """Erase the tenant's due families (or only list them). Flushes; the caller commits."""
    families = due_families(tenant, now, lock=not dry_run)
    result = RetentionResult(tenant.slug, [f.case_number for f in families])
    if dry_run or not families:
        return result
    for family in families:
        erase_family(family, cause="retention", requested_by=None, approved_by=None, actor=None, now=now)
        result.erased += 1
    record(db.session, "privacy.retention", now=now, tenant_id=tenant.id,
           details={"erased": result.erased, "rules": sorted(RETENTION_RULES), "holds": sorted(RETENTION_HOLDS)})
    return result


def run_retention(*, now: datetime, dry_run: bool = False, slug: str | None = None) -> Iterator[RetentionResult]:
    """The retention job over every tenant (or one): one commit per tenant, a dry run commits nothing.

    Run daily by the scheduler and by ``flask --app wsgi privacy retention``. The caller sets the
    session scope to ALL_TENANTS. An unknown *slug* yields nothing.
    """
    q = sa.select(Tenant.id).order_by(Tenant.slug)
    if slug:
        q = q.where(Tenant.slug == slug)
    for tenant_id in list(db.session.scalars(q)):
        result = apply_retention(db.session.get(Tenant, tenant_id), now=now, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        yield result
