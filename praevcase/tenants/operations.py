"""Use cases of tenants and agencies (flush, never commit)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from praevcase.audit.operations import record
from praevcase.database import new_id
from praevcase.errors import InvalidInput
from praevcase.extensions import db
from praevcase.i18n import N_
from praevcase.keys import new_wrapped_tenant_key
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped
from praevcase.tenants.models import Agency
from praevcase.tenants.models import AgencyKind
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings


def create_tenant(*, slug: str, name: str, case_prefix: str, is_demo: bool = False,
                  settings: dict[str, Any] | None = None, now: datetime) -> Tenant:
    """Create a tenant with its own data key and validated settings."""
    with scoped(db.session, ALL_TENANTS):
        if db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug)) is not None:
            raise InvalidInput(errors={"slug": [N_("Diese Kennung ist bereits vergeben.")]})
    tenant_id = new_id()
    tenant = Tenant(id=tenant_id, slug=slug, name=name, case_prefix=case_prefix.upper(), is_demo=is_demo,
                    settings=effective_settings(settings), wrapped_key=new_wrapped_tenant_key(tenant_id),
                    created_dt=now)
    db.session.add(tenant)
    db.session.flush()
    record(db.session, "admin.tenant.create", now=now, tenant_id=tenant.id, object_type="tenant",
           object_id=tenant.id)
    return tenant


def _check_sozialraum(tenant: Tenant, sozialraum: str | None) -> None:
    allowed = tenant.settings.get("sozialraeume") or []
    if sozialraum and allowed and sozialraum not in allowed:
        raise InvalidInput(errors={"sozialraum": [N_("Unbekannter Sozialraum.")]})


def create_agency(tenant: Tenant, *, name: str, kind: AgencyKind, sozialraum: str | None,
                  actor: Any, now: datetime) -> Agency:
    """Add an agency to *tenant*; names are unique within a tenant."""
    _check_sozialraum(tenant, sozialraum)
    if db.session.scalar(sa.select(Agency.id).where(Agency.name == name)) is not None:
        raise InvalidInput(errors={"name": [N_("Eine Stelle mit diesem Namen gibt es bereits.")]})
    agency = Agency(tenant_id=tenant.id, name=name, kind=kind, sozialraum=sozialraum, created_dt=now)
    db.session.add(agency)
    db.session.flush()
    record(db.session, "admin.agency.create", now=now, actor=actor, tenant_id=tenant.id,
           object_type="agency", object_id=agency.id)
    return agency


def update_agency(agency: Agency, *, name: str, kind: AgencyKind, sozialraum: str | None,
                  is_active: bool, actor: Any, now: datetime) -> Agency:
    """Change an agency; deactivating keeps it for history."""
    _check_sozialraum(agency_tenant(agency), sozialraum)
    clash = db.session.scalar(sa.select(Agency.id).where(Agency.name == name, Agency.id != agency.id))
    if clash is not None:
        raise InvalidInput(errors={"name": [N_("Eine Stelle mit diesem Namen gibt es bereits.")]})
    agency.name, agency.kind, agency.sozialraum = name, kind, sozialraum
    if agency.is_active and not is_active:
        agency.deactivated_dt = now
    elif is_active:
        agency.deactivated_dt = None
    agency.is_active = is_active
    db.session.flush()
    record(db.session, "admin.agency.update", now=now, actor=actor, object_type="agency", object_id=agency.id)
    return agency


def agency_tenant(agency: Agency) -> Tenant:
    return db.session.get(Tenant, agency.tenant_id)
