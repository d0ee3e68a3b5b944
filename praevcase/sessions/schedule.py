"""The session cadence of a tenant as dates: "2nd Wednesday of the month, 14:00" → UTC start times.

Pure functions (no database): the tenant settings' ``session_cadence`` (week_of_month, weekday
with 0 = Monday, time "HH:MM", place, agenda_cutoff_days) and a date range in, datetimes out.
Times are wall-clock times in Europe/Berlin; daylight saving time is handled by zoneinfo.
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
#: Length of a session when nothing else is said (the invitation's DTEND)
DEFAULT_DURATION = timedelta(hours=2)
WEEKDAY_LABELS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]


@dataclass(frozen=True)
class Slot:
    """One session of the cadence: start, end and agenda cutoff in UTC, and the place."""

    starts_dt: datetime
    ends_dt: datetime
    agenda_cutoff_dt: datetime
    place: str


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The *n*-th (1–4) *weekday* (0 = Monday) of a month; the 4th always exists."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    day = 1 + offset + 7 * (n - 1)
    if day > monthrange(year, month)[1]:  # pragma: no cover - n ≤ 4 always fits
        raise ValueError("no such weekday in this month")
    return date(year, month, day)


def local_to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in Europe/Berlin as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=BERLIN).astimezone(UTC)


def slot(day: date, cadence: dict[str, Any], *, at: time | None = None, place: str | None = None,
         duration: timedelta = DEFAULT_DURATION) -> Slot:
    """The session on *day* (at the cadence's time unless *at* is given) with its cutoff."""
    hours, minutes = (int(x) for x in cadence["time"].split(":"))
    starts = local_to_utc(day, at or time(hours, minutes))
    # The cutoff is the end of the day N days before, in local time
    cutoff_day = day - timedelta(days=int(cadence["agenda_cutoff_days"]))
    cutoff = min(local_to_utc(cutoff_day, time(23, 59)), starts)
    return Slot(starts, starts + duration, cutoff, place or cadence["place"])


def months_later(day: date, months: int) -> date:
    """The same day *months* later (the last day of the month where it does not exist)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def cadence_slots(cadence: dict[str, Any], *, after: date, months: int) -> list[Slot]:
    """Sessions of the cadence from *after* up to *months* months later (both days included)."""
    until = months_later(after, months)
    out = []
    for offset in range(months + 1):
        first = months_later(after.replace(day=1), offset)
        day = nth_weekday(first.year, first.month, int(cadence["weekday"]), int(cadence["week_of_month"]))
        if after <= day <= until:
            out.append(slot(day, cadence))
    return out


def describe(cadence: dict[str, Any]) -> str:
    """German description, e.g. "jeden 2. Mittwoch im Monat, 14:00 Uhr, Präventionsbüro"."""
    return (f"jeden {cadence['week_of_month']}. {WEEKDAY_LABELS[int(cadence['weekday'])]} im Monat, "
            f"{cadence['time']} Uhr, {cadence['place']}")


def local(dt: datetime) -> datetime:
    """A UTC datetime in Europe/Berlin (for pages, minutes and invitations)."""
    return dt.astimezone(BERLIN)
