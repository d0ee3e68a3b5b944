"""Access to the keyring and the tenant-level data keys (no request state here)."""
from __future__ import annotations

import uuid

from flask import current_app

from consent import crypto
from consent.crypto import FieldContext
from consent.crypto import Keyring


def keyring() -> Keyring:
    """The keyring of the running app (loaded from outside the database at start)."""
    return current_app.config["KEYRING"]


def new_wrapped_tenant_key(tenant_id: uuid.UUID) -> bytes:
    """A fresh tenant data key, wrapped under the active key-encryption key."""
    return crypto.wrap_data_key(
        keyring(), crypto.new_data_key(), tenant_id=str(tenant_id), family_id="tenant", dek_version=1
    )


def _tenant_dek(tenant_id: uuid.UUID, wrapped: bytes) -> bytes:
    return crypto.unwrap_data_key(
        keyring(), wrapped, tenant_id=str(tenant_id), family_id="tenant", dek_version=1
    )


def seal_tenant_secret(tenant, table: str, column: str, row_id: uuid.UUID, value: str) -> bytes:
    """Encrypt a tenant-level secret (e.g. a TOTP seed) bound to its row and column."""
    ctx = FieldContext(str(tenant.id), table, column, str(row_id), "tenant")
    return crypto.encrypt_field(_tenant_dek(tenant.id, tenant.wrapped_key), value, ctx, dek_version=1)


def open_tenant_secret(tenant, table: str, column: str, row_id: uuid.UUID, blob: bytes) -> str:
    """Decrypt what seal_tenant_secret() sealed; raises consent.errors.DecryptionFailed."""
    ctx = FieldContext(str(tenant.id), table, column, str(row_id), "tenant")
    value = crypto.decrypt_field(_tenant_dek(tenant.id, tenant.wrapped_key), blob, ctx)
    return value if isinstance(value, str) else value.decode()
