"""The reminder engine: idempotent sweeps, reasons that disappear, e-mails without names, digests, retries."""
from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.extensions import db
from praevcase.privacy import operations as privacy_ops
from praevcase.reminders import operations as ops
from praevcase.reminders.jobs import run_deliver
from praevcase.reminders.jobs import run_sweep
from praevcase.reminders.models import Digest
from praevcase.reminders.models import OutboxMessage
from praevcase.reminders.models import OutboxState
from praevcase.reminders.models import Reminder
from praevcase.reminders.models import ReminderState
from praevcase.tenancy import set_scope
from praevcase.transitions.models import ProtocolKind
from tests.factories import UserFactory
from tests.praevcase.transitions.conftest import CANARY_FAMILY
from tests.praevcase.transitions.conftest import CANARY_GIVEN
from tests.praevcase.transitions.conftest import consent_for
from tests.praevcase.transitions.conftest import new_protocol


class Memory:
    """A mail transport that keeps what it was given (thread-safe)."""

    def __init__(self, fail: int = 0):
        self.sent: list = []
        self.fail = fail
        self.lock = threading.Lock()

    def send(self, mail):
        with self.lock:
            if self.fail:
                self.fail -= 1
                raise smtplib.SMTPServerDisconnected("down")
            self.sent.append(mail)


def _expiring(world, now, days=10):
    p = new_protocol(world, ProtocolKind.u1, now, receiver=world.gs)
    rec = consent_for(p, world.gs, world.kita_staff, now, valid_days=days)
    return p, rec


def _rows(model=Reminder, **where):
    q = sa.select(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    return db.session.scalars(q).all()


def _sweep(world, now):
    report = run_sweep(now=now)
    set_scope(db.session, world.tenant.id)
    return report


def _fresh(*rows):
    """The sweep commits, which expires the test's rows; a request would load them fresh.

    (privacy_ops.withdraw_consent sets columns before its transition; an expired row would load
    itself in between and autoflush half a withdrawal.)
    """
    for row in rows:
        db.session.refresh(row)


def test_a_second_sweep_creates_nothing(world, now):
    _expiring(world, now)
    first = _sweep(world, now)
    second = _sweep(world, now + timedelta(minutes=5))
    assert (first.created, second.created) == (1, 0)
    assert len(_rows()) == 1 and len(_rows(OutboxMessage)) == 1


def test_consent_expiring_fires_only_inside_its_window(world, now):
    _expiring(world, now, days=40)
    assert _sweep(world, now).created == 0
    assert _sweep(world, now + timedelta(days=10) - timedelta(minutes=1)).created == 0
    assert _sweep(world, now + timedelta(days=10)).created == 1
    (r,) = _rows()
    assert (r.kind, r.recipient_id, r.opens_dt, r.due_dt) == (
        "consent_expiring", world.kita_staff.id, now + timedelta(days=10), now + timedelta(days=40))


def test_withdrawn_consent_takes_its_reminder_and_its_pending_email_with_it(world, now):
    _, rec = _expiring(world, now)
    _sweep(world, now)
    later = now + timedelta(hours=1)
    _fresh(rec, world.coordinator)
    privacy_ops.withdraw_consent(rec, via="phone", actor=world.coordinator, now=later)
    # the inbox shows no reminder whose reason is gone, even before the next sweep
    from praevcase.reminders.queries import inbox

    assert inbox(world.kita_staff, now=later) == []
    (r,) = _rows()
    assert r.state is ReminderState.cancelled
    assert _rows(OutboxMessage)[0].state is OutboxState.cancelled
    assert _sweep(world, later).created == 0  # the same reason is never reminded again


def test_superseded_consent_cancels_at_the_next_sweep(world, now):
    p, rec = _expiring(world, now)
    _sweep(world, now)
    _fresh(rec, p, world.kita_staff, world.coordinator)
    newer = consent_for(p, world.gs, world.kita_staff, now + timedelta(days=1), valid_days=365)
    privacy_ops.supersede_consent(rec, by=newer, actor=world.coordinator, now=now + timedelta(days=1))
    report = _sweep(world, now + timedelta(days=1))
    assert report.cancelled == 1 and _rows(state=ReminderState.open) == []


def test_when_the_obtainer_left_the_agency_staff_are_reminded(world, now):
    colleague = UserFactory(agency=world.kita, roles=[Role.school_staff])
    UserFactory(agency=world.kita, roles=[Role.statistics])  # not a role that records consents
    _expiring(world, now)
    world.kita_staff.is_active = False
    db.session.flush()
    _sweep(world, now)
    assert {r.recipient_id for r in _rows()} == {colleague.id}


def test_a_deactivated_recipient_loses_the_reminder(world, now):
    _expiring(world, now)
    _sweep(world, now)
    world.kita_staff.is_active = False
    db.session.flush()
    assert _sweep(world, now + timedelta(minutes=1)).cancelled == 1


def test_email_names_no_one_and_links_to_the_case(app, world, now):
    p, _ = _expiring(world, now)
    _sweep(world, now)
    transport = Memory()
    assert run_deliver(now=now, transport=transport) == 1
    (mail,) = transport.sent
    body = mail.get_content()
    from praevcase.privacy.models import Family

    case_number = db.session.get(Family, p.family_id).case_number
    assert case_number in mail["Subject"] and case_number in body
    assert mail["Subject"].startswith("Erinnerung: Einwilligung läuft am")
    assert "http://127.0.0.1:5000/erinnerungen" in body
    for secret in (CANARY_GIVEN, CANARY_FAMILY):
        assert secret not in body and secret not in mail["Subject"]
    assert mail["To"] == world.kita_staff.email
    (row,) = _rows(OutboxMessage)
    assert mail["Message-ID"] == f"<{row.id}@localhost>" and row.state is OutboxState.sent
    assert run_deliver(now=now, transport=transport) == 0


def test_daily_digest_collects_reminders_once_a_day_from_the_digest_hour(world, now):
    ops.set_digest(world.kita_staff, Digest.daily, now=now)
    _expiring(world, now)
    morning = now.replace(hour=5, minute=0)  # 06:00 in Germany, before the default 07:00
    _sweep(world, morning)
    assert _rows(OutboxMessage) == []
    _sweep(world, morning + timedelta(hours=1, minutes=1))
    (digest,) = _rows(OutboxMessage)
    assert digest.reminder_id is None and digest.subject == "praevcase: 1 neue Erinnerung"
    _expiring(world, now)  # another one the same day: waits for tomorrow
    _sweep(world, morning + timedelta(hours=3))
    assert len(_rows(OutboxMessage)) == 1
    _sweep(world, morning + timedelta(days=1, hours=2))
    assert len(_rows(OutboxMessage)) == 2


def test_failed_sending_is_retried_later_and_given_up_after_the_last_attempt(world, now):
    _expiring(world, now)
    _sweep(world, now)
    transport = Memory(fail=100)
    assert run_deliver(now=now, transport=transport) == 0
    (row,) = _rows(OutboxMessage)
    assert (row.state, row.attempts, row.next_attempt_dt) == (OutboxState.pending, 1, now + ops.RETRY_DELAYS[0])
    assert row.last_error == "SMTPServerDisconnected"
    assert run_deliver(now=now, transport=transport) == 0  # not before its time
    when = now
    for delay in ops.RETRY_DELAYS:
        when += delay
        run_deliver(now=when, transport=transport)
    assert row.state is OutboxState.failed and row.attempts == len(ops.RETRY_DELAYS) + 1
    transport.fail = 0
    assert run_deliver(now=when + timedelta(days=1), transport=transport) == 0


def test_done_is_not_reminded_again(world, now):
    _expiring(world, now)
    _sweep(world, now)
    (r,) = _rows()
    ops.mark_done(r, actor=world.kita_staff, now=now)
    assert _rows(OutboxMessage)[0].state is OutboxState.cancelled
    assert _sweep(world, now + timedelta(days=1)).created == 0
    with pytest.raises(Exception):  # noqa: B017 - someone else's reminder
        ops.mark_done(r, actor=world.gs_staff, now=now)


def test_an_email_to_a_deactivated_account_is_not_sent(world, now):
    _expiring(world, now)
    _sweep(world, now)
    world.kita_staff.is_active = False
    db.session.flush()
    transport = Memory()
    assert run_deliver(now=now, transport=transport) == 0
    assert transport.sent == [] and _rows(OutboxMessage)[0].state is OutboxState.cancelled
