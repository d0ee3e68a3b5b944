"""Two people act on one case at the same moment: one wins, the other gets 409, one history row.

Real concurrency on committed data: a database of its own (no rolled-back outer transaction),
two threads with their own app context, session and connection, both calling the same operation.
The first holds the row lock (FOR UPDATE) until we see the second one waiting for it.
"""
from __future__ import annotations

import threading
import time

import psycopg
import pytest
import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.cases import operations as ops
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.models import Case
from praevcase.cases.schemas import JobcenterIntakeIn
from praevcase.database import utcnow
from praevcase.errors import Conflict
from praevcase.extensions import db
from praevcase.statemachine import TransitionHistory
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import set_scope
from praevcase.tenants.models import Tenant
from tests import pg
from tests.conftest import _config
from tests.factories import UserFactory
from tests.praevcase.cases.conftest import build_kreis
from tests.praevcase.cases.conftest import jobcenter_payload
from workflows.case import CaseState


@pytest.fixture(scope="module")
def committed_app(keyring):
    from flask_migrate import upgrade

    from praevcase import create_app

    name = pg.run_scoped("praevcase_conc")
    server = pg.server_url()
    url = pg.fresh_database(server, name)
    app = create_app(_config(url, keyring))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()
    with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def ready_case(committed_app):
    """A committed case in ready_for_review and two coordinators."""
    with committed_app.app_context():
        set_scope(db.session, ALL_TENANTS)
        k = build_kreis(db.session)
        data = JobcenterIntakeIn().load(jobcenter_payload(k))
        tenant = db.session.get(Tenant, k.tenant.id)
        case = ops.open_case(tenant, IntakeChannel.jobcenter_observation, data, JobcenterIntakeIn.ANSWER_FIELDS,
                             actor=k.intake, now=utcnow())
        second = UserFactory(agency=k.buero, roles=[Role.coordinator])
        db.session.commit()
        return {"case_id": case.id, "version": case.version, "tenant_id": k.tenant.id,
                "actors": (k.coordinator.id, second.id)}


def _waiting_for_a_lock(app) -> bool:
    with app.app_context():
        return bool(db.session.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")))


@pytest.mark.parametrize("with_version", [True, False], ids=["stale_version", "state_changed"])
def test_two_concurrent_transitions_one_wins_the_other_gets_409(committed_app, ready_case, with_version):
    app, results = committed_app, {}
    first_fired, release = threading.Event(), threading.Event()

    def act(name: str, actor_id) -> None:
        with app.app_context():
            set_scope(db.session, ready_case["tenant_id"])
            actor = db.session.get(User, actor_id)
            if name == "second":
                first_fired.wait(10)
            try:
                case = ops.lock_case(ready_case["case_id"], actor)
                ops.fire_case(case, "put_on_agenda", actor=actor, now=utcnow(),
                              expected_version=ready_case["version"] if with_version else None)
                if name == "first":
                    first_fired.set()
                    release.wait(10)  # hold the row lock until the second one waits for it
                db.session.commit()
                results[name] = 200
            except Conflict as e:
                db.session.rollback()
                results[name] = (e.status_code, e.code)

    threads = [threading.Thread(target=act, args=(n, a)) for n, a in zip(("first", "second"),
                                                                           ready_case["actors"], strict=True)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while not _waiting_for_a_lock(app) and time.monotonic() < deadline:
        time.sleep(0.02)
    saw_the_wait = _waiting_for_a_lock(app)
    release.set()
    for t in threads:
        t.join(20)
    assert saw_the_wait, "the second transaction never waited for the row lock"
    assert results["first"] == 200
    assert results["second"] == (409, "stale" if with_version else "transition_refused")
    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        case = db.session.get(Case, ready_case["case_id"])
        assert case.state is CaseState.on_agenda and case.version == ready_case["version"] + 1
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(TransitionHistory).where(
            TransitionHistory.object_id == case.id, TransitionHistory.trigger == "put_on_agenda"))
        assert rows == 1
