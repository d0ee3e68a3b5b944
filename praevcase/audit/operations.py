"""Recording audit events in the caller's transaction, hash-chained at commit.

Events are collected on the session and appended in ``before_commit``: the chain head row is
locked (``FOR UPDATE``) only between that moment and the commit, and there are several chains
per tenant (one per shard), so appends do not serialise all requests on one lock.
"""
from __future__ import annotations

import os
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from consent.chain import GENESIS
from consent.chain import link
from praevcase.audit.models import HASHED_COLUMNS
from praevcase.audit.models import AuditChainHead
from praevcase.audit.models import AuditEvent

PENDING_KEY = "audit_pending"
#: Number of chains per tenant; more chains, less waiting on a chain head under load
DEFAULT_SHARDS = 4


def record(
    session: Session,
    action: str,
    *,
    now: datetime,
    actor: Any = None,
    outcome: str = "ok",
    tenant_id: uuid.UUID | None = None,
    reason: str | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    family_ref: uuid.UUID | None = None,
    purpose: str | None = None,
    legal_basis: str | None = None,
    consent_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Queue one audit event; it is written, chained, in the same transaction at commit.

    *actor* is a User (or None for anonymous/system events). *details* must hold no personal
    values: field names, categories and counts only.
    """
    if tenant_id is None and actor is not None:
        tenant_id = actor.tenant_id
    fields = {
        "tenant_id": tenant_id,
        "occurred_dt": now,
        "action": action,
        "outcome": outcome,
        "reason": reason,
        "actor_user_id": getattr(actor, "id", None),
        "actor_agency_id": getattr(actor, "agency_id", None),
        "actor_roles": ",".join(sorted(r.value for r in actor.roles)) if actor is not None else None,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "family_ref": family_ref,
        "purpose": _value(purpose),
        "legal_basis": _value(legal_basis),
        "consent_id": consent_id,
        "request_id": session.info.get("request_id"),
        "details": details,
    }
    session.info.setdefault(PENDING_KEY, []).append(fields)
    return fields


def pending_events(session: Session) -> list[dict[str, Any]]:
    """Events queued in this transaction and not yet written."""
    return list(session.info.get(PENDING_KEY, []))


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def chain_key(tenant_id: uuid.UUID | None, shards: int) -> str:
    """The chain this process appends to for *tenant_id*."""
    return f"{tenant_id or 'system'}:{os.getpid() % shards}"


def hashed_fields(row: Any) -> dict[str, Any]:
    """The hashed columns of an event row or mapping, in canonical form."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return {k: get(k) for k in HASHED_COLUMNS}


def _head_for_update(session: Session, chain: str) -> tuple[int, bytes]:
    heads = AuditChainHead.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(
        insert(heads).values(chain=chain, seq=0, row_hash=GENESIS).on_conflict_do_nothing()
    )
    row = session.execute(
        sa.select(heads.c.seq, heads.c.row_hash).where(heads.c.chain == chain).with_for_update()
    ).one()
    return row.seq, row.row_hash


def append_pending(session: Session) -> int:
    """Write the queued events, each linked to its chain's previous hash. Returns the count."""
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return 0
    shards = session.info.get("audit_shards", DEFAULT_SHARDS)
    by_chain: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fields in pending:
        fields = dict(fields, chain=chain_key(fields["tenant_id"], shards))
        by_chain[fields["chain"]].append(fields)
    events = AuditEvent.__table__
    heads = AuditChainHead.__table__
    for chain in sorted(by_chain):  # fixed order: two transactions never deadlock on heads
        seq, prev = _head_for_update(session, chain)
        rows = []
        for fields in by_chain[chain]:
            seq += 1
            row_hash = link(prev, seq, hashed_fields(fields))
            rows.append(dict(fields, seq=seq, prev_hash=prev, row_hash=row_hash))
            prev = row_hash
        session.execute(sa.insert(events), rows)
        session.execute(
            sa.update(heads).where(heads.c.chain == chain).values(seq=seq, row_hash=prev)
        )
    return len(pending)


@event.listens_for(Session, "before_commit")
def _append_on_commit(session: Session) -> None:
    append_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    # a rolled-back action did not happen, so its events go too (denied reveals are
    # re-recorded in a fresh transaction by the error handler)
    if not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)
