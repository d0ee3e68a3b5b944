"""The reminder engine: idempotent sweeps, cancellation when the reason is gone, outbox and inbox.

Every step can run in any number of processes at once: reminders are created with
``INSERT … ON CONFLICT DO NOTHING`` on their dedupe key (only the inserting transaction sees the
new id), and every row a step changes is claimed with ``FOR UPDATE SKIP LOCKED``, so two
sweepers never notify or send the same row. Operations flush; jobs.py commits between steps.
"""
from __future__ import annotations

import smtplib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from praevcase.accounts.models import User
from praevcase.accounts.models import UserRole
from praevcase.audit.operations import record
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.reminders import mail
from praevcase.reminders.models import Digest
from praevcase.reminders.models import OutboxMessage
from praevcase.reminders.models import OutboxState
from praevcase.reminders.models import Reminder
from praevcase.reminders.models import ReminderPreference
from praevcase.reminders.models import ReminderState
from praevcase.reminders.registry import Occasion
from praevcase.reminders.registry import ReminderKind
from praevcase.reminders.registry import SweepContext
from praevcase.reminders.registry import load_kinds
from praevcase.reminders.windows import TIMEZONE
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings

#: Waits before the 2nd, 3rd, … attempt to send an e-mail; then it is given up (state failed)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=8))
INSERT_CHUNK = 1000
LOOKUP_CHUNK = 100


def state_is(column: Any, *values: str) -> Any:
    """``column = 'x'`` / ``IN ('x', 'y')`` with literals, so the partial indexes always match the plan."""
    literals = [sa.literal_column(f"'{v}'") for v in values]
    return column == literals[0] if len(literals) == 1 else column.in_(literals)


def _insert(table: sa.Table) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def case_numbers(family_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Case numbers of those of *family_ids* that are not erased.

    Due-queries read their own partial index first and then the families by primary key, so a
    sweep never scans all families (a join left to the planner did, at 100 k families; so did one
    IN list of 1 000 ids, hence the chunks).
    """
    ids = sorted(set(family_ids))
    out: dict[uuid.UUID, str] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        out.update(db.session.execute(sa.select(Family.id, Family.case_number).where(
            Family.id.in_(ids[start:start + LOOKUP_CHUNK]), Family.erased_dt.is_(None))).all())
    return out


def context_for(tenant: Tenant, now: datetime) -> SweepContext:
    return SweepContext(tenant=tenant, settings=effective_settings(tenant.settings), now=now)


# --- creating -------------------------------------------------------------------------------------


def dedupe_key(kind: str, occasion: Occasion, recipient_id: uuid.UUID) -> str:
    return f"{kind}:{occasion.subject_id}:{occasion.occurrence}:{recipient_id}"


def _recipients(kind: ReminderKind, occasions: Sequence[Occasion]) -> list[list[uuid.UUID]]:
    """Per occasion: its named users while active, else the active staff of its agency with the kind's roles."""
    named = {u for o in occasions for u in o.user_ids}
    active = set(db.session.scalars(sa.select(User.id).where(User.id.in_(named), User.is_active))) if named else set()
    agencies = {o.agency_id for o in occasions if o.agency_id is not None}
    staff: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if agencies and kind.recipient_roles:
        rows = db.session.execute(
            sa.select(User.id, User.agency_id).join(UserRole, UserRole.user_id == User.id)
            .where(User.agency_id.in_(agencies), User.is_active, UserRole.role.in_(kind.recipient_roles))
            .distinct().order_by(User.id))
        for user_id, agency_id in rows:
            staff[agency_id].append(user_id)
    return [[u for u in o.user_ids if u in active] or staff.get(o.agency_id, []) for o in occasions]  # type: ignore[arg-type]


def create_due(kind: ReminderKind, ctx: SweepContext) -> int:
    """Create the reminders of *kind* whose corridor is open; returns how many are new."""
    occasions = list(kind.due(ctx))
    if not occasions:
        return 0
    rows = []
    for occasion, recipients in zip(occasions, _recipients(kind, occasions), strict=True):
        for recipient in recipients:
            rows.append({
                "id": new_id(), "tenant_id": ctx.tenant_id, "kind": kind.name,
                "dedupe_key": dedupe_key(kind.name, occasion, recipient), "recipient_id": recipient,
                "subject_type": occasion.subject_type, "subject_id": occasion.subject_id,
                "occurrence": occasion.occurrence, "family_id": occasion.family_id,
                "case_number": occasion.case_number, "link_path": occasion.link_path,
                "params": dict(occasion.params), "opens_dt": occasion.opens_dt, "due_dt": occasion.due_dt,
                "state": ReminderState.open, "created_dt": ctx.now,
            })
    rows.sort(key=lambda r: r["dedupe_key"])  # one lock order for every sweeper: no deadlocks
    created = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        created += len(_insert_new(Reminder.__table__, rows[start:start + INSERT_CHUNK]))
    return created


def _insert_new(table: sa.Table, rows: list[dict[str, Any]]) -> list[Any]:
    """INSERT … ON CONFLICT (tenant_id, dedupe_key) DO NOTHING for many rows; the ids actually inserted."""
    if not rows:
        return []
    stmt = (_insert(table).on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
            .returning(table.c.id))
    return list(db.session.execute(stmt, rows).scalars())


# --- cancelling when the reason is gone -------------------------------------------------------------


def _cancel_unless_valid(ctx: SweepContext, rows: Sequence[Reminder]) -> int:
    """Cancel those of *rows* (open, locked) whose reason is gone or whose recipient left."""
    kinds = load_kinds()
    by_kind: dict[str, list[Reminder]] = defaultdict(list)
    for r in rows:
        if r.kind in kinds:  # a kind whose feature is switched off is left alone
            by_kind[r.kind].append(r)
    if not by_kind:
        return 0
    active = set(db.session.scalars(sa.select(User.id).where(User.id.in_({r.recipient_id for r in rows}),
                                                            User.is_active)))
    gone: list[Reminder] = []
    for name, group in by_kind.items():
        valid = kinds[name].still_valid(ctx, group)
        gone += [r for r in group if r.id not in valid or r.recipient_id not in active]
    for r in gone:
        r.state, r.cancelled_dt = ReminderState.cancelled, ctx.now
    if gone:
        db.session.execute(sa.update(OutboxMessage)
                           .where(OutboxMessage.reminder_id.in_([r.id for r in gone]),
                                  state_is(OutboxMessage.state, "pending"))
                           .values(state=OutboxState.cancelled))
        db.session.flush()
    return len(gone)


def cancel_invalid(kind: ReminderKind, ctx: SweepContext) -> int:
    """The validity pass of one kind in one tenant: proportional to its open reminders."""
    rows = db.session.scalars(
        sa.select(Reminder).where(Reminder.tenant_id == ctx.tenant_id, Reminder.kind == kind.name,
                                  state_is(Reminder.state, "open"))
        .with_for_update(skip_locked=True)).all()
    return _cancel_unless_valid(ctx, rows) if rows else 0


def recheck_subject(subject_id: uuid.UUID, *, now: datetime) -> int:
    """Check the open reminders about one subject at once (called after the subject changed)."""
    rows = db.session.scalars(
        sa.select(Reminder).where(Reminder.subject_id == subject_id, state_is(Reminder.state, "open"))
        .with_for_update(skip_locked=True)).all()
    if not rows:
        return 0
    return _cancel_unless_valid(context_for(db.session.get(Tenant, rows[0].tenant_id), now), rows)


def still_open(rows: Sequence[Reminder], *, now: datetime) -> list[Reminder]:
    """*rows* (open, of one tenant) without those whose reason is gone — which are cancelled now."""
    if not rows:
        return []
    _cancel_unless_valid(context_for(db.session.get(Tenant, rows[0].tenant_id), now), rows)
    return [r for r in rows if r.state is ReminderState.open]


# --- telling the recipients: single e-mails and daily digests -----------------------------------------


def _text(reminder: Reminder) -> str:
    kind = load_kinds().get(reminder.kind)
    return kind.text(reminder.params) if kind else reminder.kind


def _message(tenant_id: uuid.UUID, key: str, recipient_id: uuid.UUID, subject: str, body: str, *, now: datetime,
             reminder_id: uuid.UUID | None = None) -> dict[str, Any]:
    """An outbox row; queued with _insert_new, so the same key is never queued twice."""
    return {"id": new_id(), "tenant_id": tenant_id, "dedupe_key": key, "recipient_id": recipient_id,
            "reminder_id": reminder_id, "subject": subject, "body": body, "state": OutboxState.pending,
            "attempts": 0, "next_attempt_dt": now, "created_dt": now}


def _by_tenant(rows: Iterable[Reminder]) -> dict[uuid.UUID, list[Reminder]]:
    out: dict[uuid.UUID, list[Reminder]] = defaultdict(list)
    for r in rows:
        out[r.tenant_id].append(r)
    return out


def notify_immediately(*, now: datetime, batch: int = 200) -> int:
    """Queue one e-mail per new reminder for users who want them at once; returns rows handled (0: done)."""
    daily = sa.select(ReminderPreference.user_id).where(state_is(ReminderPreference.digest, Digest.daily.value))
    rows = db.session.scalars(
        sa.select(Reminder).where(state_is(Reminder.state, "open"), Reminder.notified_dt.is_(None),
                                  Reminder.opens_dt <= now, Reminder.recipient_id.not_in(daily))
        .order_by(Reminder.created_dt).limit(batch).with_for_update(skip_locked=True)).all()
    base_url = current_app.config["BASE_URL"].rstrip("/")
    messages = []
    for tenant_id, group in _by_tenant(rows).items():
        for r in still_open(group, now=now):
            subject, body = mail.compose_single(r, _text(r), base_url)
            messages.append(_message(tenant_id, f"reminder:{r.id}", r.recipient_id, subject, body, now=now,
                                     reminder_id=r.id))
    _insert_new(OutboxMessage.__table__, sorted(messages, key=lambda m: m["dedupe_key"]))
    for r in rows:
        r.notified_dt = now
    db.session.flush()
    return len(rows)


def send_digests(*, now: datetime) -> int:
    """Queue the daily digest of users who chose it, once a day from the tenant's digest hour."""
    local = now.astimezone(TIMEZONE)
    prefs = db.session.scalars(
        sa.select(ReminderPreference).where(state_is(ReminderPreference.digest, Digest.daily.value))
        .with_for_update(skip_locked=True)).all()
    base_url = current_app.config["BASE_URL"].rstrip("/")
    queued = 0
    tenants: dict[uuid.UUID, SweepContext] = {}
    for pref in prefs:
        if pref.tenant_id not in tenants:
            tenants[pref.tenant_id] = context_for(db.session.get(Tenant, pref.tenant_id), now)
        if local.hour < tenants[pref.tenant_id].reminders["digest_hour"] or pref.last_digest_on == local.date():
            continue
        rows = db.session.scalars(
            sa.select(Reminder).where(Reminder.recipient_id == pref.user_id, state_is(Reminder.state, "open"),
                                      Reminder.notified_dt.is_(None), Reminder.opens_dt <= now)
            .order_by(Reminder.due_dt).with_for_update(skip_locked=True)).all()
        items = [(r, _text(r)) for r in still_open(rows, now=now)]
        if items:
            subject, body = mail.compose_digest(items, base_url)
            queued += len(_insert_new(OutboxMessage.__table__, [_message(
                pref.tenant_id, f"digest:{pref.user_id}:{local.date().isoformat()}", pref.user_id, subject, body,
                now=now)]))
        for r in rows:
            r.notified_dt = now
        pref.last_digest_on = local.date()
    db.session.flush()
    return queued


# --- the outbox --------------------------------------------------------------------------------------


def claim_next(*, now: datetime) -> tuple[OutboxMessage, str | None] | None:
    """Lock the next e-mail due for sending that no other sender holds; with its recipient's address.

    The address is None when the recipient's account is no longer active.
    """
    row = db.session.execute(
        sa.select(OutboxMessage, sa.case((User.is_active, User.email), else_=None))
        .join(User, User.id == OutboxMessage.recipient_id)
        .where(state_is(OutboxMessage.state, "pending"), OutboxMessage.next_attempt_dt <= now)
        .order_by(OutboxMessage.next_attempt_dt).limit(1).with_for_update(of=OutboxMessage, skip_locked=True)).first()
    return None if row is None else (row[0], row[1])


def deliver(message: OutboxMessage, address: str | None, *, now: datetime, transport: mail.Transport) -> bool:
    """Send one claimed e-mail; on failure schedule the next attempt or give up. Returns True if sent."""
    message.attempts += 1
    if address is None:
        message.state = OutboxState.cancelled
        return False
    try:
        transport.send(mail.build(message, to=address, sender=current_app.config["MAIL_FROM"]))
    except (OSError, smtplib.SMTPException) as e:
        code = getattr(e, "smtp_code", None)
        message.last_error = f"{type(e).__name__}{f' {code}' if code else ''}"[:200]
        if message.attempts > len(RETRY_DELAYS):
            message.state = OutboxState.failed
        else:
            message.next_attempt_dt = now + RETRY_DELAYS[message.attempts - 1]
        return False
    message.state, message.sent_dt, message.last_error = OutboxState.sent, now, None
    return True


# --- the user's side ---------------------------------------------------------------------------------


def mark_done(reminder: Reminder, *, actor: Any, now: datetime) -> None:
    """The recipient marks a reminder as done; it leaves the inbox and is not created again."""
    if reminder.recipient_id != actor.id:
        raise Conflict("Diese Erinnerung gehört jemand anderem.")
    if reminder.state is not ReminderState.open:
        raise Conflict("Diese Erinnerung ist nicht mehr offen.")
    reminder.state, reminder.done_dt, reminder.done_by_id = ReminderState.done, now, actor.id
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.reminder_id == reminder.id,
                                                      state_is(OutboxMessage.state, "pending"))
                       .values(state=OutboxState.cancelled))
    db.session.flush()
    record(db.session, "reminder.done", now=now, actor=actor, object_type="reminder", object_id=reminder.id,
           family_ref=reminder.family_id, details={"kind": reminder.kind})


def preference_of(user: Any) -> Digest:
    pref = db.session.get(ReminderPreference, user.id)
    return pref.digest if pref is not None else Digest.immediately


def set_digest(user: Any, digest: Digest, *, now: datetime) -> None:
    """Immediately (one e-mail each) or daily (one digest e-mail a day)."""
    pref = db.session.get(ReminderPreference, user.id)
    if pref is None:
        pref = ReminderPreference(user_id=user.id, tenant_id=user.tenant_id, updated_dt=now)
        db.session.add(pref)
    pref.digest, pref.updated_dt = digest, now
    db.session.flush()
    record(db.session, "reminder.preference", now=now, actor=user, object_type="user", object_id=user.id,
           details={"digest": digest.value})
