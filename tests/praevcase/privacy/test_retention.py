"""Retention deadlines: which families are due, holds that keep them, and a sweep that is idempotent."""
from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.privacy import operations as ops
from praevcase.privacy import retention
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ErasureTombstone
from praevcase.privacy.models import Family
from praevcase.privacy.retention import apply_retention
from praevcase.privacy.retention import due_families
from praevcase.privacy.retention import months_before
from tests.conftest import arrange
from tests.praevcase.privacy.conftest import make_world


def _consent(world, now, **kw):
    return ops.record_consent(world.family, template=world.template, purposes={Purpose.team_review},
                              categories={DataCategory.identity}, recipient_agency_ids={world.gesundheitsamt.id},
                              signatories=[{"person_id": world.mother.id}], channel=ConsentChannel.written,
                              actor=world.intake, now=now, **kw)


def _due(world, at):
    db.session.flush()
    return [f.id for f in due_families(world.tenant, at)] == [world.family.id]


def _months(now, n):
    return months_before(now, -n)


@pytest.mark.parametrize(("now", "months", "expected"), [
    (datetime(2026, 3, 31, 12, tzinfo=UTC), 1, datetime(2026, 2, 28, 12, tzinfo=UTC)),
    (datetime(2026, 1, 15, tzinfo=UTC), 6, datetime(2025, 7, 15, tzinfo=UTC)),
    (datetime(2024, 8, 29, tzinfo=UTC), 6, datetime(2024, 2, 29, tzinfo=UTC)),
    (datetime(2026, 1, 15, tzinfo=UTC), 36, datetime(2023, 1, 15, tzinfo=UTC)),
])
def test_months_before_counts_calendar_months(now, months, expected):
    assert months_before(now, months) == expected


def test_a_family_that_never_consented_is_due_after_the_refusal_period(world, now):
    assert not _due(world, _months(now, 6) - timedelta(seconds=1))
    assert _due(world, _months(now, 6))


def test_an_active_consent_keeps_the_family(world, now):
    _consent(world, now)
    assert not _due(world, _months(now, 60))


def test_the_clock_starts_when_the_last_consent_ended(world, now):
    first = _consent(world, now, valid_until=_months(now, 2))  # expires after two months
    second = _consent(world, now + timedelta(days=1))
    ops.withdraw_consent(second, via="phone", actor=world.intake, now=_months(now, 3))
    assert not _due(world, _months(now, 8))  # the withdrawal was only 5 months before
    assert _due(world, _months(now, 9))
    assert first.valid_until < second.withdrawn_dt


def test_a_superseded_consent_counts_as_ended_only_with_its_successor(world, now):
    old = _consent(world, now)
    new = _consent(world, now + timedelta(days=1), supersedes=old)
    assert not _due(world, _months(now, 12))
    ops.withdraw_consent(new, via="written", actor=world.intake, now=now + timedelta(days=2))
    assert _due(world, _months(now, 7))


def test_a_hold_of_another_feature_beats_every_rule(world, now):
    def open_case(tenant_id, settings, at):
        return sa.select(Family.id).where(Family.tenant_id == tenant_id)

    retention.register_retention_hold("test_open_case", open_case)
    try:
        assert not _due(world, _months(now, 24))
    finally:
        del retention.RETENTION_HOLDS["test_open_case"]
    assert _due(world, _months(now, 24))


def test_a_rule_of_another_feature_adds_families(world, now):
    _consent(world, now)

    def case_closed(tenant_id, settings, at):
        assert settings["closed_case_months"] == 36
        return sa.select(Family.id).where(Family.tenant_id == tenant_id)

    retention.register_retention_rule("test_case_closed", case_closed)
    try:
        assert _due(world, now)
    finally:
        del retention.RETENTION_RULES["test_case_closed"]


def test_the_sweep_erases_what_is_due_and_then_nothing(world, now):
    later = _months(now, 7)
    first = apply_retention(world.tenant, now=later)
    assert first.due == [world.family.case_number] and first.erased == 1
    assert world.family.erased_dt == later
    tomb = db.session.scalar(sa.select(ErasureTombstone).where(ErasureTombstone.family_id == world.family.id))
    assert tomb.cause == "retention" and tomb.requested_by is None
    second = apply_retention(world.tenant, now=later)
    assert (second.due, second.erased) == ([], 0)


# --- the command ---------------------------------------------------------------------------------


def _fingerprint() -> dict[str, int]:
    """Row count of every table, plus erased families: "changes 0 rows" made measurable."""
    counts = {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    counts["erased_families"] = db.session.scalar(
        sa.select(sa.func.count()).select_from(Family).where(Family.erased_dt.is_not(None)))
    return counts


def test_retention_command_is_idempotent(app, scorecard):
    with arrange(app):
        old = make_world(utcnow() - timedelta(days=400))  # never consented, created over a year ago
    with arrange(app):
        fresh = make_world(utcnow() - timedelta(days=10))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"1 Familie(n) fällig: {old.family.case_number}" in dry.output
    with arrange(app):
        assert db.session.get(Family, old.family.id).erased_dt is None
    first = runner.invoke(args=["privacy", "retention"])
    assert first.exit_code == 0 and "Zusammen: 1 Familie(n) gelöscht" in first.output
    with arrange(app):
        assert db.session.get(Family, old.family.id).wrapped_key is None
        assert db.session.get(Family, fresh.family.id).wrapped_key is not None
        before = _fingerprint()
    second = runner.invoke(args=["privacy", "retention"])
    assert "Zusammen: 0 Familie(n) gelöscht" in second.output
    with arrange(app):
        after = _fingerprint()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    scorecard("SC-20", "due_erased", f"1/1,second_run_rows_changed={len(changed)}")
    assert changed == {}


# --- the notice before the deadline (reminder kind retention_due) and the scheduler's jobs ---------


def _sweep(world, at):
    from praevcase.reminders.jobs import run_sweep
    from praevcase.tenancy import set_scope

    db.session.flush()
    report = run_sweep(now=at)
    set_scope(db.session, world.tenant.id)
    return report


def _notices(world):
    from praevcase.reminders.models import Reminder

    return db.session.scalars(sa.select(Reminder).where(Reminder.kind == "retention_due")
                              .order_by(Reminder.created_dt)).all()


def test_the_dpo_is_told_within_the_notice_period_before_the_deadline_and_only_once(world, now):
    deadline = _months(now, 6)  # the family never consented: due after refused_consent_months
    _sweep(world, deadline - timedelta(days=30, minutes=1))
    assert _notices(world) == []
    _sweep(world, deadline - timedelta(days=30))
    _sweep(world, deadline - timedelta(days=29))
    _sweep(world, deadline + timedelta(days=1))  # already due, the retention job has not run yet
    (notice,) = _notices(world)
    assert (notice.recipient_id, notice.subject_id, notice.case_number) == (
        world.dpo.id, world.family.id, world.family.case_number)
    assert (notice.opens_dt, notice.due_dt) == (deadline - timedelta(days=30), deadline)
    assert notice.state.value == "open"


def test_the_notice_names_the_date_and_no_person(world, now):
    from praevcase.reminders.operations import _text

    _sweep(world, _months(now, 6) - timedelta(days=3))
    (notice,) = _notices(world)
    text = _text(notice)
    assert _months(now, 6).strftime("%d.%m.%Y") in text
    assert world.family.case_number not in text and "Emre" not in text


def test_a_new_consent_cancels_the_notice_and_a_later_deadline_is_announced_again(world, now):
    deadline = _months(now, 6)
    _sweep(world, deadline - timedelta(days=10))
    given = _consent(world, deadline - timedelta(days=5))
    _sweep(world, deadline - timedelta(days=5))
    (cancelled,) = _notices(world)
    assert cancelled.state.value == "cancelled"
    ops.withdraw_consent(given, via="phone", actor=world.intake, now=deadline)
    second_deadline = _months(deadline, 6)
    _sweep(world, second_deadline - timedelta(days=40))
    assert len(_notices(world)) == 1
    _sweep(world, second_deadline - timedelta(days=20))
    _, again = _notices(world)
    assert again.state.value == "open" and again.occurrence != cancelled.occurrence


def test_the_notice_disappears_when_the_retention_job_erased_the_family(world, now):
    deadline = _months(now, 6)
    _sweep(world, deadline - timedelta(days=10))
    assert apply_retention(world.tenant, now=deadline).erased == 1
    _sweep(world, deadline + timedelta(minutes=5))
    (notice,) = _notices(world)
    assert notice.state.value == "cancelled"


def test_the_sweep_marks_consents_past_their_end_as_expired(world, now):
    rec = _consent(world, now, valid_until=now + timedelta(days=2))
    _sweep(world, now + timedelta(days=1))
    db.session.refresh(rec)
    assert rec.state == "active"
    _sweep(world, now + timedelta(days=2))
    db.session.refresh(rec)
    assert rec.state == "expired"


def test_the_schedulers_retention_job_erases_due_families_once(world, now):
    from praevcase.reminders.scheduler.runner import retention as retention_job
    from praevcase.tenancy import set_scope

    db.session.flush()
    assert retention_job(now=_months(now, 7)) == 1
    assert retention_job(now=_months(now, 7)) == 0
    set_scope(db.session, world.tenant.id)
    db.session.refresh(world.family)
    assert world.family.erased_dt == _months(now, 7)
