"""The inbox: a user's open reminders whose corridor has opened, most urgent first."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

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
