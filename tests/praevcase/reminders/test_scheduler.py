"""Exactly once under concurrency (SC-12): four sweepers at once, and a scheduler leader killed mid-life.

These tests need committed data seen by several connections and processes, so they run on a
database of their own (``praevcase_sched_<run>_<worker>``), migrated to head, instead of the rolled-back
test transaction.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import User
from praevcase.extensions import db
from praevcase.privacy import operations as privacy_ops
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import PersonRole
from praevcase.reminders.jobs import run_deliver
from praevcase.reminders.jobs import run_sweep
from praevcase.reminders.mail import FileSink
from praevcase.reminders.models import OutboxMessage
from praevcase.reminders.models import OutboxState
from praevcase.reminders.models import Reminder
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import set_scope
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.transitions import operations as transition_ops
from praevcase.transitions.models import ProtocolKind
from tests import pg
from tests.conftest import _config
from tests.praevcase.reminders.test_engine import Memory
from tests.praevcase.transitions.conftest import build_world

ROOT = Path(__file__).resolve().parents[3]
WAIT = 60  # seconds: the upper bound of every wait below


@pytest.fixture(scope="module")
def committed(keyring):
    """An app on a dedicated, committed database."""
    from flask_migrate import upgrade

    from praevcase import create_app

    server = pg.server_url()
    name = pg.run_scoped("praevcase_sched")  # praevcase_sched_<run>_<worker>
    url = pg.fresh_database(server, name)
    app = create_app(_config(url, keyring))
    with app.app_context():
        upgrade()
    yield app, url
    with app.app_context():
        db.engine.dispose()
    pg.drop_database(server, name)


def _u1_protocols_due(app, count: int, now: datetime):
    """A world with *count* Ü1 protocols in draft whose handover corridor is open at *now*."""
    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        w = build_world()
        for i in range(count):
            transition_ops.create_protocol(
                ProtocolKind.u1, child={"given_name": f"Kind{i}", "family_name": "Test",
                                        "birth_date": datetime(2021, 3, 1).date()},
                guardians=[{"given_name": "E", "family_name": "Test"}], receiver_agency_id=None,
                school_year=2027, actor=w.kita_staff, now=now)
        db.session.commit()
        return w.tenant.id


def _counts(app, tenant_id):
    with app.app_context():
        set_scope(db.session, tenant_id)
        reminders = db.session.scalars(sa.select(Reminder.dedupe_key)).all()
        outbox = db.session.execute(sa.select(OutboxMessage.id, OutboxMessage.state)).all()
        return reminders, outbox


def test_four_sweepers_at_once_create_and_send_each_reminder_exactly_once(committed, scorecard):
    app, _ = committed
    now = datetime(2027, 5, 1, 8, tzinfo=UTC)  # inside the Ü1 handover corridor of school year 2027
    tenant_id = _u1_protocols_due(app, 200, now)
    transport = Memory()
    barrier = threading.Barrier(4)
    reports, errors = [], []

    def sweeper():
        try:
            with app.app_context():
                barrier.wait(timeout=WAIT)
                for _ in range(2):
                    reports.append(run_sweep(now=now))
                    run_deliver(now=now, transport=transport)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
    assert errors == [] and not any(t.is_alive() for t in threads)

    reminders, outbox = _counts(app, tenant_id)
    message_ids = Counter(m["Message-ID"] for m in transport.sent)
    assert len(reminders) == len(set(reminders)) == 200
    assert sum(r.created for r in reports) == 200
    assert len(outbox) == 200 and {state for _, state in outbox} == {OutboxState.sent}
    assert len(message_ids) == 200 and max(message_ids.values()) == 1
    scorecard("SC-12", "sweepers_dispatched", len(transport.sent))
    scorecard("SC-12", "sweepers_duplicates", len(transport.sent) - len(message_ids))


def _consents_expiring(app, tenant_id, count: int, now: datetime) -> None:
    """*count* consents of one family that end in ten days (each is a due reminder now)."""
    with app.app_context():
        set_scope(db.session, tenant_id)
        tenant = db.session.get(Tenant, tenant_id)
        kita = db.session.scalar(sa.select(Agency).where(Agency.name == "Kita Sonnenblume"))
        user = db.session.scalar(sa.select(User).where(User.agency_id == kita.id))
        family = privacy_ops.create_family(tenant, holder_agency=kita, sozialraum=None, actor=user, now=now)
        guardian = privacy_ops.add_person(family, role=PersonRole.guardian, given_name="E", family_name="T",
                                          has_custody=True, now=now)
        template = transition_ops.ensure_consent_template(tenant, ProtocolKind.u1, actor=user, now=now)
        for _ in range(count):
            privacy_ops.record_consent(
                family, template=template, purposes={Purpose.transition_u1}, categories={DataCategory.education},
                recipient_agency_ids={kita.id}, signatories=[{"person_id": guardian.id}],
                channel=ConsentChannel.written, valid_until=now + timedelta(days=10), actor=user, now=now)
        db.session.commit()


def _start(url: str, keyring, instance: Path, name: str) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAEVCASE_")}
    env.update(PRAEVCASE_DATABASE_URL=url, PRAEVCASE_INSTANCE_PATH=str(instance), PRAEVCASE_KEYRING=keyring.to_json(),
               PRAEVCASE_SECRET_KEY="scheduler-test", PRAEVCASE_LOG_LEVEL="INFO")  # noqa: S106 - a test key
    log = instance / f"{name}.log"
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run", "--sweep-seconds", "0.5",
             "--deliver-seconds", "0.5", "--standby-retry", "0.5"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, log


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _sent(app, tenant_id) -> int:
    _, outbox = _counts(app, tenant_id)
    return sum(1 for _, state in outbox if state is OutboxState.sent)


def test_killing_the_leader_lets_the_standby_take_over_with_nothing_missed_or_doubled(
        committed, keyring, tmp_path, scorecard):
    app, url = committed
    now = datetime.now(UTC)
    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        tenant_id = build_world().tenant.id
        db.session.commit()
    _consents_expiring(app, tenant_id, 100, now)
    procs = []
    try:
        leader, leader_log = _start(url, keyring, tmp_path, "a")
        procs.append(leader)
        _wait_for(lambda: "scheduler: leader" in leader_log.read_text(), "the first scheduler to lead")
        standby, standby_log = _start(url, keyring, tmp_path, "b")
        procs.append(standby)
        _wait_for(lambda: "scheduler: standby" in standby_log.read_text(), "the second scheduler to stand by")
        _wait_for(lambda: _sent(app, tenant_id) == 100, "the leader to send the first 100")

        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=WAIT)
        _consents_expiring(app, tenant_id, 100, now)  # due while the leader is gone
        _wait_for(lambda: "scheduler: leader" in standby_log.read_text(), "the standby to take over")
        _wait_for(lambda: _sent(app, tenant_id) == 200, "the new leader to send the other 100")
        time.sleep(1.5)  # a few more ticks: nothing may be created or sent again
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover - bounded, then forced
                proc.kill()
    assert procs[1].returncode == 0, standby_log.read_text()[-2000:]

    reminders, outbox = _counts(app, tenant_id)
    mails = Counter(m["message_id"] for m in FileSink(tmp_path / "mail-sink.jsonl").messages())
    assert len(reminders) == len(set(reminders)) == 200
    assert len(outbox) == 200 and {state for _, state in outbox} == {OutboxState.sent}
    assert len(mails) == 200 and max(mails.values()) == 1
    scorecard("SC-12", "dispatched", sum(mails.values()))
    scorecard("SC-12", "duplicates", sum(mails.values()) - len(mails))
    scorecard("SC-12", "missed", 200 - len(mails))
