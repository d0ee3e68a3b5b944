"""The inbox: a user's open reminders whose corridor has opened, most urgent first."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.reminders.models import Reminder
from praevcase.reminders.operations import state_is
from praevcase.reminders.operations import still_open


def inbox(user: Any, *, now: datetime) -> list[Reminder]:
    """Due and overdue reminders of *user*; any whose reason is gone are cancelled on the way."""
    rows = db.session.scalars(
        sa.select(Reminder).where(Reminder.recipient_id == user.id, state_is(Reminder.state, "open"),
                                  Reminder.opens_dt <= now)
        .order_by(Reminder.due_dt, Reminder.created_dt)).all()
    return still_open(rows, now=now)


def own_reminder(user: Any, reminder_id: uuid.UUID) -> Reminder:
    """A reminder of *user*, locked for a change; 404 for anyone else's (or another tenant's)."""
    reminder = db.session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None or reminder.recipient_id != user.id:
        raise NotFound()
    return reminder


def texts(items: list[Reminder]) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """German title and sentence of each reminder (its kind's label and text; the kind's name if switched off)."""
    from praevcase.reminders.registry import load_kinds

    kinds = load_kinds()
    labels = {r.id: kinds[r.kind].label if r.kind in kinds else r.kind for r in items}
    sentences = {r.id: kinds[r.kind].text(r.params) if r.kind in kinds else r.kind for r in items}
    return labels, sentences
