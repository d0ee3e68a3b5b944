"""KEK rotation, online: re-wrap family and tenant data keys under the active key, in batches.

Readers never wait: both the old and the new KEK are in the keyring while rows move, and a
reader unwraps whichever wrapped key it sees. A batch locks only its own rows (``FOR UPDATE SKIP
LOCKED``) and the caller commits after each, so the job can be stopped and started again: it
picks up the rows whose ``kek_id`` is still not the active one. A key is retired (its material
dropped from the keyring file) only once no stored wrapped key references it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from consent import crypto
from praevcase.audit.operations import record
from praevcase.extensions import db
from praevcase.keys import keyring
from praevcase.privacy.models import Family
from praevcase.tenants.models import Tenant


def _not_on(active: str) -> sa.ColumnElement[bool]:
    return sa.and_(Family.wrapped_key.is_not(None), sa.or_(Family.kek_id.is_(None), Family.kek_id != active))


def families_left() -> int:
    """Families whose key is not yet wrapped under the active KEK."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Family).where(_not_on(keyring().active_id)))


@dataclass
class RotationCursor:
    """Where a rotation run stands: the last family id it moved (keyset, so a batch never walks past
    the keys already moved — without it the n-th batch scanned n × batch rows: 7.9 min for 1.1 M keys)."""

    after: uuid.UUID | None = None


def rotate_family_batch(*, batch: int, now: datetime, cursor: RotationCursor | None = None) -> int:
    """Re-wrap up to *batch* family keys under the active KEK; returns how many moved.

    With a *cursor* the batches walk the families in id order from where the last one stopped; at
    the end the cursor starts over once, for rows another transaction had locked on the way.
    """
    ring = keyring()
    q = sa.select(Family).where(_not_on(ring.active_id)).order_by(Family.id).limit(batch)
    if cursor is not None and cursor.after is not None:
        rows = db.session.scalars(q.where(Family.id > cursor.after).with_for_update(skip_locked=True)).all()
        if not rows:
            cursor.after = None
            return rotate_family_batch(batch=batch, now=now, cursor=cursor)
    else:
        rows = db.session.scalars(q.with_for_update(skip_locked=True)).all()
    if cursor is not None and rows:
        cursor.after = rows[-1].id
    for family in rows:
        family.wrapped_key = crypto.rewrap_data_key(ring, family.wrapped_key, tenant_id=str(family.tenant_id),
                                                    family_id=str(family.id), dek_version=family.dek_version)
        family.kek_id = ring.active_id
    if rows:
        db.session.flush()
        record(db.session, "keys.rotate", now=now, object_type="families",
               details={"rewrapped": len(rows), "kek": ring.active_id})
    return len(rows)


def rotate_tenant_keys(*, now: datetime) -> int:
    """Re-wrap the tenant data keys (few rows; the key id is read from the wrapped blob)."""
    ring = keyring()
    moved = 0
    for tenant in db.session.scalars(sa.select(Tenant).order_by(Tenant.id).with_for_update(skip_locked=True)):
        if crypto.wrapped_key_id(tenant.wrapped_key) == ring.active_id:
            continue
        tenant.wrapped_key = crypto.rewrap_data_key(ring, tenant.wrapped_key, tenant_id=str(tenant.id),
                                                    family_id="tenant", dek_version=1)
        moved += 1
    if moved:
        db.session.flush()
        record(db.session, "keys.rotate", now=now, object_type="tenants",
               details={"rewrapped": moved, "kek": ring.active_id})
    return moved


def references(key_id: str) -> int:
    """Stored wrapped keys (families and tenants) still encrypted under *key_id*."""
    n = db.session.scalar(sa.select(sa.func.count()).select_from(Family).where(
        Family.wrapped_key.is_not(None), Family.kek_id == key_id)) or 0
    # rows without a recorded kek_id: read the id from the blob itself
    for blob in db.session.scalars(sa.select(Family.wrapped_key).where(
            Family.wrapped_key.is_not(None), Family.kek_id.is_(None))):
        n += crypto.wrapped_key_id(blob) == key_id
    for blob in db.session.scalars(sa.select(Tenant.wrapped_key)):
        n += crypto.wrapped_key_id(blob) == key_id
    return n
