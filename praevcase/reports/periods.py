"""Report periods on a fixed grid (pure): a calendar year, half-year or quarter, in German local time.

Only whole grid periods can be chosen. Free date ranges would let anyone difference two reports
("1.1.–14.6." and "1.1.–15.6.") down to a single family; with a grid, every period is a union of
whole months, and each month is shown in the same protected table as its neighbours.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Berlin")
MONTH_NAMES = ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sep.", "Okt.", "Nov.", "Dez.")
_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<kind>[HQ])(?P<n>[1-4]))?$")


class InvalidPeriod(ValueError):
    """Not a grid period (e.g. 2026, 2026-H1, 2026-Q3)."""


@dataclass(frozen=True, order=True)
class Period:
    """A year (kind ''), half-year ('H', n 1–2) or quarter ('Q', n 1–4)."""

    year: int
    kind: str = ""
    n: int = 0

    @classmethod
    def parse(cls, code: str) -> Period:
        match = _PATTERN.match(code or "")
        if not match:
            raise InvalidPeriod(code)
        year, kind, n = int(match["year"]), match["kind"] or "", int(match["n"] or 0)
        if not 2000 <= year <= 2100 or (kind == "H" and n > 2):
            raise InvalidPeriod(code)
        return cls(year, kind, n)

    @classmethod
    def containing(cls, day: date, kind: str = "") -> Period:
        if kind == "H":
            return cls(day.year, "H", 1 if day.month <= 6 else 2)
        if kind == "Q":
            return cls(day.year, "Q", (day.month - 1) // 3 + 1)
        return cls(day.year)

    @property
    def code(self) -> str:
        return f"{self.year}" + (f"-{self.kind}{self.n}" if self.kind else "")

    @property
    def first_month(self) -> int:
        return {"": 1, "H": 6 * (self.n - 1) + 1, "Q": 3 * (self.n - 1) + 1}[self.kind]

    @property
    def months(self) -> list[str]:
        """'YYYY-MM' keys of the months in the period."""
        count = {"": 12, "H": 6, "Q": 3}[self.kind]
        return [f"{self.year}-{m:02d}" for m in range(self.first_month, self.first_month + count)]

    @property
    def label(self) -> str:
        if self.kind == "H":
            return f"{self.n}. Halbjahr {self.year}"
        if self.kind == "Q":
            return f"{self.n}. Quartal {self.year}"
        return f"Jahr {self.year}"

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware UTC datetimes (local midnights)."""
        start = datetime(self.year, self.first_month, 1, tzinfo=LOCAL)
        last = self.first_month + len(self.months)
        end = datetime(self.year + (last > 12), (last - 1) % 12 + 1, 1, tzinfo=LOCAL)
        return start.astimezone(UTC), end.astimezone(UTC)


def month_label(key: str) -> str:
    """'2026-03' → 'März 2026'."""
    year, month = key.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} {year}"


def choices(today: date, years_back: int = 4) -> list[tuple[str, str]]:
    """Periods to offer in a filter, newest first (code, German label)."""
    out: list[tuple[str, str]] = []
    for year in range(today.year, today.year - years_back - 1, -1):
        for p in (Period(year), Period(year, "H", 2), Period(year, "H", 1),
                  *(Period(year, "Q", q) for q in (4, 3, 2, 1))):
            if date(p.year, p.first_month, 1) <= today:
                out.append((p.code, p.label))
    return out
