"""Audit events and the heads of their hash chains."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from praevcase.extensions import db


class AuditEvent(db.Model):
    """One append-only event. Never updated, never deleted (triggers refuse it on PostgreSQL).

    No personal value is ever stored here: families appear only by their pseudonymous id.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.UniqueConstraint("chain", "seq", name="uq_audit_events_chain_seq"),
        sa.Index("ix_audit_events_tenant_dt", "tenant_id", "occurred_dt"),
        sa.Index("ix_audit_events_family", "family_ref"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    #: "<tenant id>:<shard>" or "system:<shard>"; each chain is hashed on its own
    chain: Mapped[str] = mapped_column(sa.String(48))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    occurred_dt: Mapped[datetime] = mapped_column()
    #: e.g. auth.login, data.reveal, consent.withdraw, admin.user.create, case.transition
    action: Mapped[str] = mapped_column(sa.String(60))
    #: ok, failed, granted, denied
    outcome: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    actor_agency_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    actor_roles: Mapped[str | None] = mapped_column(sa.String(200))
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: Pseudonymous family id (never a name)
    family_ref: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    purpose: Mapped[str | None] = mapped_column(sa.String(40))
    legal_basis: Mapped[str | None] = mapped_column(sa.String(40))
    consent_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: Non-personal details (field names, categories, counts)
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    row_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.chain}#{self.seq} {self.action} {self.outcome}>"


#: Columns covered by the row hash, in a fixed order.
HASHED_COLUMNS = (
    "chain", "tenant_id", "occurred_dt", "action", "outcome", "reason", "actor_user_id",
    "actor_agency_id", "actor_roles", "object_type", "object_id", "family_ref", "purpose",
    "legal_basis", "consent_id", "request_id", "details",
)


class AuditChainHead(db.Model):
    """The last link of each chain; its row lock serialises appends to that chain only."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[str] = mapped_column(sa.String(48), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    row_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
