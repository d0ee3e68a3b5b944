"""The cadence ("2nd Wednesday of the month, 14:00") as dates, and generating sessions ahead."""
from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time

import pytest
import sqlalchemy as sa

from praevcase.extensions import db
from praevcase.sessions import operations as ops
from praevcase.sessions import schedule
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.tenants.settings import effective_settings

CADENCE = effective_settings({})["session_cadence"]  # 2nd Wednesday, 14:00, cutoff 7 days


@pytest.mark.parametrize(("year", "month", "expected"), [(2026, 12, date(2026, 12, 9)), (2027, 1, date(2027, 1, 13)),
                                                         (2027, 3, date(2027, 3, 10)), (2027, 9, date(2027, 9, 8))])
def test_the_second_wednesday(year, month, expected):
    assert schedule.nth_weekday(year, month, 2, 2) == expected


def test_slots_are_berlin_wall_clock_times_across_daylight_saving():
    winter, summer = schedule.slot(date(2027, 1, 13), CADENCE), schedule.slot(date(2027, 7, 14), CADENCE)
    assert winter.starts_dt == datetime(2027, 1, 13, 13, 0, tzinfo=UTC)
    assert summer.starts_dt == datetime(2027, 7, 14, 12, 0, tzinfo=UTC)
    assert schedule.local(winter.agenda_cutoff_dt).date() == date(2027, 1, 6)
    assert winter.place == "Präventionsbüro" and (winter.ends_dt - winter.starts_dt).seconds == 7200


def test_cadence_slots_cover_the_months_ahead_from_today():
    days = [schedule.local(s.starts_dt).date() for s in schedule.cadence_slots(CADENCE, after=date(2026, 11, 23),
                                                                               months=3)]
    assert days == [date(2026, 12, 9), date(2027, 1, 13), date(2027, 2, 10)]
    assert schedule.describe(CADENCE) == "jeden 2. Mittwoch im Monat, 14:00 Uhr, Präventionsbüro"


def test_generating_is_idempotent_invites_the_team_and_survives_a_move(team_ctx):
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    created = ops.generate_sessions(team_ctx.tenant, months=3, actor=None, now=now)
    assert len(created) == 3 and all(s.cadence_day for s in created)
    invited = db.session.scalar(sa.select(sa.func.count()).select_from(SessionAttendee)
                                .where(SessionAttendee.session_id == created[0].id))
    assert invited == 5  # the five member agencies of the team
    first = created[0]
    ops.reschedule(first, team_ctx.tenant, {"day": date(2026, 12, 10), "start_time": time(10, 0), "place": "Rathaus"},
                   actor=team_ctx.coordinator, now=now)
    assert ops.generate_sessions(team_ctx.tenant, months=3, actor=None, now=now) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewSession)) == 3
    assert first.cadence_day == date(2026, 12, 9) and first.ical_sequence == 1


def test_the_command_generates_the_sessions_of_every_tenant(app, team):
    result = app.test_cli_runner().invoke(args=["sessions", "generate", "--months", "2"])
    assert result.exit_code == 0, result.output
    assert f"{team.tenant.slug}: 2 Schnittstellengespräch(e) angelegt" in result.output or \
        f"{team.tenant.slug}: 3 Schnittstellengespräch(e) angelegt" in result.output
    again = app.test_cli_runner().invoke(args=["sessions", "generate", "--tenant", team.tenant.slug, "--months", "2"])
    assert f"{team.tenant.slug}: 0 Schnittstellengespräch(e) angelegt" in again.output
