"""Tenant isolation as a mechanism: every ORM statement on a tenant-scoped model is filtered.

A session carries its scope in ``session.info["tenant_scope"]``: a tenant id, or
:data:`ALL_TENANTS` for the few system paths that must look across tenants (login lookup,
scheduler sweeps, CLI). A statement that touches a :class:`TenantScoped` model while no scope
is set raises :class:`TenantScopeMissing` — forgetting the scope fails closed instead of
leaking another municipality's rows.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import with_loader_criteria

SCOPE_KEY = "tenant_scope"


class _AllTenants:
    def __repr__(self) -> str:
        return "ALL_TENANTS"


#: Explicit opt-in to a cross-tenant view, for system code only.
ALL_TENANTS: Any = _AllTenants()


class TenantScopeMissing(RuntimeError):
    """A tenant-scoped table was queried from a session that has no tenant scope."""


class TenantMismatch(RuntimeError):
    """A row of another tenant was about to be written in this session."""


class TenantScoped:
    """Mixin for every model that belongs to exactly one tenant."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 - SQLAlchemy declared_attr
        return mapped_column(sa.ForeignKey("tenants.id"), index=True, nullable=False)


def current_scope(session: Session) -> Any:
    """Return the session's tenant scope (a tenant id, ALL_TENANTS or None)."""
    return session.info.get(SCOPE_KEY)


def set_scope(session: Session, scope: Any) -> None:
    """Set the session's tenant scope for the rest of its life (one request)."""
    session.info[SCOPE_KEY] = scope


@contextmanager
def scoped(session: Session, scope: Any) -> Iterator[None]:
    """Temporarily run *session* under another scope (e.g. ALL_TENANTS for a login lookup)."""
    previous = session.info.get(SCOPE_KEY)
    session.info[SCOPE_KEY] = scope
    try:
        yield
    finally:
        if previous is None:
            session.info.pop(SCOPE_KEY, None)
        else:
            session.info[SCOPE_KEY] = previous


def _touches_scoped_model(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria of the parent statement already propagate
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if not _touches_scoped_model(state):
        return
    scope = state.session.info.get(SCOPE_KEY)
    if scope is None:
        raise TenantScopeMissing("query on a tenant-scoped table without a tenant scope")
    if scope is ALL_TENANTS:
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == scope,
            include_aliases=True,
            track_closure_variables=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _check_written_tenants(session: Session, flush_context: Any, instances: Any) -> None:
    scope = session.info.get(SCOPE_KEY)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if scope is None:
            raise TenantScopeMissing(f"writing {type(obj).__name__} without a tenant scope")
        if scope is ALL_TENANTS:
            if obj.tenant_id is None:
                raise TenantMismatch(f"{type(obj).__name__} has no tenant")
            continue
        if obj.tenant_id is None:
            obj.tenant_id = scope
        elif obj.tenant_id != scope:
            raise TenantMismatch(f"{type(obj).__name__} belongs to another tenant")
