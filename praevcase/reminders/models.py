"""Reminders (the in-app inbox), per-user delivery preferences and the e-mail outbox."""
from __future__ import annotations

import enum
import uuid
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.i18n import N_
from praevcase.privacy.models import ConsentRecord
from praevcase.tenancy import TenantScoped


def _partial(name: str, *columns: Any, where: str, **kw: Any) -> sa.Index:
    """A partial index (PostgreSQL and SQLite): sweeps read only the rows that can be due."""
    return sa.Index(name, *columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where), **kw)


class ReminderState(str, enum.Enum):
    open = "open"  # in the inbox from opens_dt on
    done = "done"  # the recipient marked it done
    cancelled = "cancelled"  # its reason is gone (state changed, consent withdrawn, corridor over)


class Reminder(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """One reminder for one user; the dedupe key makes every sweep idempotent."""

    __tablename__ = "reminders"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "dedupe_key", name="uq_reminders_tenant_dedupe_key"),
        sa.CheckConstraint("(state = 'done') = (done_dt IS NOT NULL)", name="done_dt_iff_done"),
        sa.CheckConstraint("(state = 'cancelled') = (cancelled_dt IS NOT NULL)", name="cancelled_dt_iff_cancelled"),
        sa.CheckConstraint("opens_dt <= due_dt", name="window_ordered"),
        _partial("ix_reminders_open_kind", "tenant_id", "kind", where="state = 'open'"),
        _partial("ix_reminders_open_recipient", "recipient_id", "due_dt", where="state = 'open'"),
        _partial("ix_reminders_open_subject", "subject_id", where="state = 'open'"),
        _partial("ix_reminders_unnotified", "created_dt", where="state = 'open' AND notified_dt IS NULL"),
    )

    #: Name of the registered ReminderKind
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: kind:subject:occurrence:recipient
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))
    recipient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    subject_type: Mapped[str] = mapped_column(sa.String(30))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    occurrence: Mapped[str] = mapped_column(sa.String(60))
    family_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("families.id", ondelete="CASCADE"))
    #: Pseudonymous case number, e.g. DN-2026-00042
    case_number: Mapped[str | None] = mapped_column(sa.String(24))
    link_path: Mapped[str] = mapped_column(sa.String(200))
    #: Non-personal values for the German text
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: Due from / overdue after (the corridor)
    opens_dt: Mapped[datetime] = mapped_column()
    due_dt: Mapped[datetime] = mapped_column()
    state: Mapped[ReminderState] = mapped_column(
        sa.Enum(ReminderState, native_enum=False, create_constraint=True, length=12, name="reminder_state",
                validate_strings=True), default=ReminderState.open)
    #: When an e-mail (single or digest) about it was queued
    notified_dt: Mapped[datetime | None] = mapped_column()
    done_dt: Mapped[datetime | None] = mapped_column()
    done_by_id: Mapped[uuid.UUID | None] = mapped_column()
    cancelled_dt: Mapped[datetime | None] = mapped_column()

    def is_overdue(self, now: datetime) -> bool:
        return self.state is ReminderState.open and now > self.due_dt

    def __repr__(self) -> str:
        return f"<Reminder {self.kind} {self.state.value}>"


class Digest(str, enum.Enum):
    immediately = "immediately"
    daily = "daily"


DIGEST_LABELS = {Digest.immediately: N_("Sofort, eine E-Mail je Erinnerung"),
                 Digest.daily: N_("Einmal täglich als Sammel-E-Mail")}


class ReminderPreference(TenantScoped, db.Model):
    """How a user wants to be told about reminders (no row: immediately)."""

    __tablename__ = "reminder_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[Digest] = mapped_column(
        sa.Enum(Digest, native_enum=False, create_constraint=True, length=12, name="reminder_digest",
                validate_strings=True), default=Digest.immediately)
    #: Local date of the last daily digest (one per day at most)
    last_digest_on: Mapped[date | None] = mapped_column()
    updated_dt: Mapped[datetime] = mapped_column()


class OutboxState(str, enum.Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after the last retry
    cancelled = "cancelled"  # its reminder was cancelled before sending


class OutboxMessage(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """An e-mail waiting to be sent (or sent): German text, pseudonymous case numbers and links only."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "dedupe_key", name="uq_outbox_messages_tenant_dedupe_key"),
        sa.CheckConstraint("(state = 'sent') = (sent_dt IS NOT NULL)", name="sent_dt_iff_sent"),
        _partial("ix_outbox_messages_pending", "next_attempt_dt", where="state = 'pending'"),
        sa.Index("ix_outbox_messages_reminder", "reminder_id"),
    )

    #: "reminder:<id>" or "digest:<user>:<date>"
    dedupe_key: Mapped[str] = mapped_column(sa.String(120))
    recipient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: The single reminder this e-mail is about (None for a digest)
    reminder_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("reminders.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[OutboxState] = mapped_column(
        sa.Enum(OutboxState, native_enum=False, create_constraint=True, length=12, name="outbox_state",
                validate_strings=True), default=OutboxState.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_dt: Mapped[datetime] = mapped_column()
    sent_dt: Mapped[datetime | None] = mapped_column()
    #: Error class and SMTP code of the last failed attempt (never message text)
    last_error: Mapped[str | None] = mapped_column(sa.String(200))

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.state.value}>"


# The consent-expiring due-query reads active consents by their end; this partial index keeps that
# read proportional to the consents that are about to end (declared here, next to its only query).
_partial("ix_consent_records_active_valid_until", ConsentRecord.__table__.c.tenant_id,
         ConsentRecord.__table__.c.valid_until, where="state = 'active' AND valid_until IS NOT NULL")
