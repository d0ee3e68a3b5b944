"""SC-04/SC-05 at scale: a chain of ≥ 100 000 audit events verifies, and one tampered row is found where it is.

Runs in CI (about 15 s: 100 k events written in ~8 s, verified in ~2.5 s).

The events are queued with the app's own ``record()`` and chained with its own ``append_pending()``
(the code every request commits through), in bulk inside the test's rolled-back transaction.
Tampering is done as a database superuser would: raw SQL with the append-only triggers switched
off (``session_replication_role = replica``).
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.audit.models import AuditEvent
from praevcase.audit.operations import append_pending
from praevcase.audit.operations import record
from praevcase.audit.verify import verify_app_chains
from praevcase.extensions import db
from tests.conftest import _config
from tests.factories import UserFactory

EVENTS = 100_000
BATCH = 10_000


@pytest.fixture
def app_config(database_url, keyring, tmp_path):
    return _config(database_url, keyring, CHECKPOINT_FILE=str(tmp_path / "audit-checkpoints.log"),
                   TOMBSTONE_FILE=str(tmp_path / "erasure-tombstones.log"))


def _superuser_sql(statement: str, **params) -> None:
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(sa.text(statement), params)
    db.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    db.session.expire_all()


def _chain_of(n: int, now):
    """*n* events of one new tenant, written and chained by the app's own code; returns (tenant, chain)."""
    user = UserFactory(roles=[Role.dpo])
    for start in range(0, n, BATCH):
        for i in range(start, min(start + BATCH, n)):
            record(db.session, "data.reveal", now=now + timedelta(milliseconds=i), actor=user, outcome="granted",
                   object_type="persons", object_id=user.id, purpose="case_coordination",
                   details={"fields": ["first_name"], "i": i})
        append_pending(db.session)
    db.session.flush()
    name = db.session.scalar(sa.select(AuditEvent.chain).where(AuditEvent.tenant_id == user.tenant_id).limit(1))
    return user.tenant_id, name


def _only_chain(tenant_id):
    report = verify_app_chains(db.session, tenant_id=tenant_id)
    assert len(report.chains) == 1
    return report.chains[0].result


def test_sc04_sc05_a_chain_of_100k_events_verifies_and_one_tampered_row_is_found_at_its_position(
        app_ctx, now, scorecard):
    started = time.perf_counter()
    tenant_id, name = _chain_of(EVENTS, now)
    write_s = time.perf_counter() - started
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.tenant_id == tenant_id))
    assert count == EVENTS  # SC-04: every recorded event is in the table, once

    started = time.perf_counter()
    result = _only_chain(tenant_id)
    verify_s = time.perf_counter() - started
    assert result.intact and result.total == result.verified == EVENTS
    assert verify_s < 60

    edited_at, deleted_at = 61_803, 87_654
    nested = db.session.begin_nested()
    _superuser_sql("UPDATE audit_events SET outcome = 'denied' WHERE chain = :c AND seq = :s", c=name, s=edited_at)
    result = _only_chain(tenant_id)
    assert (result.intact, result.problem, result.broken_at) == (False, "hash_mismatch", edited_at)
    nested.rollback()
    db.session.expire_all()

    nested = db.session.begin_nested()
    _superuser_sql("DELETE FROM audit_events WHERE chain = :c AND seq = :s", c=name, s=deleted_at)
    result = _only_chain(tenant_id)
    assert (result.intact, result.problem, result.broken_at) == (False, "seq_gap", deleted_at)
    nested.rollback()
    db.session.expire_all()

    assert _only_chain(tenant_id).intact  # rolled back: intact again
    scorecard("SC-04", "events_recorded_vs_stored", f"{EVENTS}/{count}")
    scorecard("SC-05", "events_100k", f"{EVENTS},write_s={write_s:.1f},verify_s={verify_s:.1f},"
              f"edit_found_at={edited_at},delete_found_at={deleted_at}")
