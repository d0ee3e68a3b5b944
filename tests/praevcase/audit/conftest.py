"""A tenant with a chain of audit events, and a checkpoint file of its own per test."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.audit.models import AuditChainHead
from praevcase.audit.models import AuditEvent
from praevcase.audit.operations import record
from tests.conftest import _config
from tests.factories import UserFactory


@pytest.fixture
def checkpoint_file(tmp_path):
    return tmp_path / "audit-checkpoints.log"


@pytest.fixture
def app_config(database_url, keyring, checkpoint_file, tmp_path):
    return _config(database_url, keyring, CHECKPOINT_FILE=str(checkpoint_file),
                   TOMBSTONE_FILE=str(tmp_path / "erasure-tombstones.log"))


@pytest.fixture
def chain(app_ctx, now):
    """Ten committed events of one tenant: returns (tenant_id, chain name, user)."""
    from praevcase.extensions import db

    user = UserFactory(roles=[Role.dpo])
    for i in range(10):
        record(db.session, "audit.test", now=now + timedelta(seconds=i), actor=user, details={"i": i})
    db.session.commit()
    name = db.session.scalar(sa.select(AuditEvent.chain).where(AuditEvent.tenant_id == user.tenant_id).limit(1))
    return user.tenant_id, name, user


def rows(chain_name: str) -> list[AuditEvent]:
    from praevcase.extensions import db

    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.chain == chain_name)
                                   .order_by(AuditEvent.seq)))


def head(chain_name: str) -> AuditChainHead:
    from praevcase.extensions import db

    return db.session.get(AuditChainHead, chain_name)
