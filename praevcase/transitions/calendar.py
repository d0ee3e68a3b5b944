"""The tenant's school calendar and the transition corridors ("Übergangskorridore") derived from it.

Dates of the school year are local (Europe/Berlin) calendar dates; a corridor opens and closes at
local midnight, stored as UTC instants. NRW defaults come from the tenant settings: the school
year starts on 1 August, a child who turns six by 30 September starts school that August, the
half-year report of grade 4 is issued at the end of January.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any

from praevcase.reminders.windows import Corridor
from praevcase.reminders.windows import local_date
from praevcase.reminders.windows import local_midnight

__all__ = ["Corridor", "SchoolCalendar", "local_date", "local_midnight"]


def _month_day(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


@dataclass(frozen=True)
class SchoolCalendar:
    """A tenant's school calendar as (month, day) pairs."""

    school_year_start: tuple[int, int] = (8, 1)
    entry_cutoff: tuple[int, int] = (9, 30)
    half_year_report: tuple[int, int] = (1, 31)

    @classmethod
    def of(cls, settings: dict[str, Any]) -> SchoolCalendar:
        """The calendar of a tenant's effective settings."""
        cal = settings["school_calendar"]
        return cls(_month_day(cal["school_year_start"]), _month_day(cal["entry_cutoff"]),
                   _month_day(cal["half_year_report"]))

    def school_start(self, year: int) -> date:
        """First day of school year *year*/*year+1*."""
        return date(year, *self.school_year_start)

    def school_year_of(self, day: date) -> int:
        """The school year (by its starting year) that *day* falls into."""
        return day.year if (day.month, day.day) >= self.school_year_start else day.year - 1

    def entry_year(self, birth_date: date) -> int:
        """Year of school entry: a child who turns six by the cut-off starts school that year."""
        return birth_date.year + (6 if (birth_date.month, birth_date.day) <= self.entry_cutoff else 7)

    def half_year_report_date(self, year: int) -> date:
        """Date of the half-year report in school year *year*/*year+1*."""
        report = date(year, *self.half_year_report)
        if (report.month, report.day) >= self.school_year_start:
            return report
        return date(year + 1, *self.half_year_report)

    def grade5_report_date(self, grade5_year: int) -> date:
        """The grade-4 half-year report of a child who enters grade 5 in August *grade5_year*."""
        return self.half_year_report_date(grade5_year - 1)

    # --- the corridors of the transitions, from the tenant's reminder settings -----------------

    def u1_handover(self, year: int, r: dict[str, Any]) -> Corridor:
        """Hand the Ü1 protocol over before school year *year* starts."""
        start = self.school_start(year)
        return Corridor(local_midnight(start - timedelta(days=r["u1_handover_opens_days"])),
                        local_midnight(start - timedelta(days=r["u1_handover_due_days"])),
                        local_midnight(start))

    def u1_follow_up(self, year: int, r: dict[str, Any]) -> Corridor:
        """Visit the Grundschule after school start; the corridor ends with that school year."""
        start = self.school_start(year)
        return Corridor(local_midnight(start + timedelta(days=r["u1_follow_up_opens_days"])),
                        local_midnight(start + timedelta(days=r["u1_follow_up_due_days"])),
                        local_midnight(self.school_start(year + 1)))

    def u2_issue(self, grade5_year: int, r: dict[str, Any]) -> Corridor:
        """Issue the Ü2 protocol with the grade-4 half-year report."""
        report = self.grade5_report_date(grade5_year)
        return Corridor(local_midnight(report - timedelta(days=r["u2_issue_opens_days"])),
                        local_midnight(report + timedelta(days=r["u2_issue_due_days"] + 1)),
                        local_midnight(self.school_start(grade5_year)))
