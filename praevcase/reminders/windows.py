"""Local dates and reminder corridors: windows with an opening, a due date and an end.

Reminders follow corridors ("Übergangskorridore") rather than single dates: a reminder is in the
inbox from ``opens``, overdue after ``due``, and withdrawn when the corridor ``closes``. Dates are
German calendar dates; instants are stored in UTC.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Europe/Berlin")


def local_midnight(day: date) -> datetime:
    """The UTC instant at which *day* begins in Germany."""
    return datetime.combine(day, time(0), tzinfo=TIMEZONE).astimezone(UTC)


def local_date(now: datetime) -> date:
    """The German calendar date at the instant *now*."""
    return now.astimezone(TIMEZONE).date()


@dataclass(frozen=True)
class Corridor:
    """A reminder window: due from *opens*, overdue after *due*, withdrawn at *closes* (if any)."""

    opens: datetime
    due: datetime
    closes: datetime | None = None

    def contains(self, now: datetime) -> bool:
        return self.opens <= now and (self.closes is None or now < self.closes)
