"""The keyring: key-encryption keys (KEKs) by id plus the blind-index root key.

The keyring lives in a file outside PostgreSQL (security-privacy.md §2.6/§2.7): a
database dump alone must never be enough to decrypt. File format::

    {"format": 1, "active": "k1",
     "keys": {"k1": "<urlsafe base64 of 32 bytes>"},
     "index_key": "<urlsafe base64 of 32 bytes>",
     "retired": ["k0"]}                       # optional

``retired`` lists ids whose material has been destroyed. They are kept by name so an
id is never reused (a reused id would make old blobs fail as "tampered" instead of
"unknown key") and so unwrapping under them reports *why* the key is missing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from consent.errors import KeyringError
from consent.errors import UnknownKey

KEY_BYTES = 32
FORMAT = 1

# ASCII only and short: the id is stored in every wrapped key (length byte + id).
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# 32 bytes are exactly 43 base64 characters plus one "=" of padding.
_B64_KEY = re.compile(r"[A-Za-z0-9_-]{43}=?")
_JSON_FIELDS = frozenset({"format", "active", "keys", "index_key", "retired"})
_REQUIRED_FIELDS = frozenset({"format", "active", "keys", "index_key"})


def _check_key_id(key_id: object, where: str) -> str:
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        # The id is not secret, but it may be garbage of any length: show its type only.
        raise KeyringError(
            f"{where}: key id must match {_KEY_ID.pattern} (got {type(key_id).__name__})"
        )
    return key_id


def _check_key_bytes(material: object, where: str) -> bytes:
    if not isinstance(material, bytes) or len(material) != KEY_BYTES:
        raise KeyringError(f"{where} must be exactly {KEY_BYTES} bytes")
    return material


def _decode_key(text: object, where: str) -> bytes:
    # A regex instead of catching binascii.Error: decoder errors may quote the input.
    if not isinstance(text, str) or not _B64_KEY.fullmatch(text):
        raise KeyringError(f"{where} must be urlsafe base64 of {KEY_BYTES} bytes")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encode_key(material: bytes) -> str:
    return base64.urlsafe_b64encode(material).decode("ascii")


def _no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last of two equal keys; in a keyring that hides
    # an editing mistake (two different "k2"), so refuse it.
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise KeyringError(f"keyring JSON has duplicate field {name!r}")
        out[name] = value
    return out


@dataclass(frozen=True, repr=False)
class Keyring:
    """KEKs by id, the id of the active KEK, and the blind-index root key.

    ``keys`` is copied into a read-only mapping; old KEKs stay for unwrapping until
    every data key has been re-wrapped under the active one (see :meth:`retire`).
    ``index_key`` is never touched by KEK rotation: blind indexes must stay stable.
    """

    keys: Mapping[str, bytes]
    active_id: str
    index_key: bytes
    retired: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not isinstance(self.keys, Mapping) or not self.keys:
            raise KeyringError("keyring needs at least one key")
        keys: dict[str, bytes] = {}
        for key_id, material in self.keys.items():
            _check_key_id(key_id, "keys")
            keys[key_id] = _check_key_bytes(material, f"key {key_id!r}")
        _check_key_id(self.active_id, "active")
        if self.active_id not in keys:
            raise KeyringError(f"active key {self.active_id!r} is not in keys")
        _check_key_bytes(self.index_key, "index_key")
        retired = frozenset(self.retired)
        for key_id in retired:
            _check_key_id(key_id, "retired")
        if retired & keys.keys():
            both = sorted(retired & keys.keys())
            raise KeyringError(f"retired ids still have key material: {both}")
        # Key reuse across ids or purposes would silently weaken separation.
        if len(set(keys.values())) != len(keys):
            raise KeyringError("two key ids share the same key material")
        if self.index_key in keys.values():
            raise KeyringError("index_key must differ from every KEK")
        object.__setattr__(self, "keys", MappingProxyType(keys))
        object.__setattr__(self, "retired", retired)

    def __repr__(self) -> str:
        ids = ", ".join(sorted(self.keys))
        retired = sorted(self.retired)
        return f"Keyring(active_id={self.active_id!r}, key_ids=[{ids}], retired={retired})"

    __str__ = __repr__

    @classmethod
    def generate(cls, key_id: str = "k1") -> Keyring:
        """Create a keyring with one fresh random KEK and a fresh index key."""
        return cls(keys={key_id: os.urandom(KEY_BYTES)}, active_id=key_id,
                   index_key=os.urandom(KEY_BYTES))

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        """Parse and strictly validate the JSON keyring format.

        :raises KeyringError: naming the offending field; never echoes key material.
        """
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_pairs)
        except json.JSONDecodeError as exc:
            # ``from None``: the decode error carries the whole document (.doc).
            raise KeyringError(
                f"keyring is not valid JSON (line {exc.lineno}, column {exc.colno})"
            ) from None
        if not isinstance(data, dict):
            raise KeyringError("keyring JSON must be an object")
        unknown = data.keys() - _JSON_FIELDS
        if unknown:
            raise KeyringError(f"keyring JSON has unknown fields: {sorted(unknown)}")
        missing = _REQUIRED_FIELDS - data.keys()
        if missing:
            raise KeyringError(f"keyring JSON lacks fields: {sorted(missing)}")
        if type(data["format"]) is not int or data["format"] != FORMAT:
            raise KeyringError(f"keyring format must be {FORMAT}")
        if not isinstance(data["keys"], dict):
            raise KeyringError("keyring field 'keys' must be an object")
        keys = {
            _check_key_id(key_id, "keys"): _decode_key(text, f"key {key_id!r}")
            for key_id, text in data["keys"].items()
        }
        retired = data.get("retired", [])
        if not isinstance(retired, list):
            raise KeyringError("keyring field 'retired' must be a list")
        return cls(
            keys=keys,
            active_id=_check_key_id(data["active"], "active"),
            index_key=_decode_key(data["index_key"], "index_key"),
            retired=frozenset(_check_key_id(key_id, "retired") for key_id in retired),
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, check_permissions: bool = True) -> Keyring:
        """Load a keyring file.

        :param check_permissions: refuse a file readable or writable by group/others
            (like ssh does for private keys); switch off only for throwaway test keys.
        :raises KeyringError: if the file is unreadable, too open, or malformed.
        """
        path = Path(path)
        try:
            mode = path.stat().st_mode
            if check_permissions and mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyringError(
                    f"keyring file {path} is accessible by group/others "
                    f"(mode {stat.S_IMODE(mode):04o}); run chmod 600"
                )
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyringError(f"cannot read keyring file {path}: {exc.strerror}") from None
        return cls.from_json(text)

    def to_json(self) -> str:
        """Serialise to the JSON keyring format (contains key material!)."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "active": self.active_id,
            "keys": {key_id: _encode_key(self.keys[key_id]) for key_id in sorted(self.keys)},
            "index_key": _encode_key(self.index_key),
        }
        if self.retired:
            data["retired"] = sorted(self.retired)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def to_file(self, path: str | os.PathLike[str]) -> None:
        """Write the keyring atomically with mode 0600 (temp file + rename).

        Atomic so a crash during rotation never leaves a half-written keyring.
        """
        path = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=".keyring-", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def kek(self, key_id: str) -> bytes:
        """Return the KEK with this id.

        :raises UnknownKey: if the id is unknown or retired.
        """
        try:
            return self.keys[key_id]
        except KeyError:
            if key_id in self.retired:
                raise UnknownKey(f"key {key_id!r} has been retired") from None
            raise UnknownKey(f"key {key_id!r} is not in the keyring") from None

    def with_new_active(self, key_id: str | None = None) -> Keyring:
        """Return a keyring with a fresh KEK made active; older KEKs stay for unwrapping.

        :param key_id: id of the new key; default ``k<n>`` with the next free n.
        :raises KeyringError: if the id is already used now or was used before.
        """
        if key_id is None:
            n = len(self.keys) + len(self.retired) + 1
            while f"k{n}" in self.keys or f"k{n}" in self.retired:
                n += 1
            key_id = f"k{n}"
        _check_key_id(key_id, "new key")
        if key_id in self.keys or key_id in self.retired:
            raise KeyringError(f"key id {key_id!r} is already used")
        keys = dict(self.keys)
        keys[key_id] = os.urandom(KEY_BYTES)
        return Keyring(keys=keys, active_id=key_id, index_key=self.index_key,
                       retired=self.retired)

    def retire(self, key_id: str, *, references: int) -> Keyring:
        """Return a keyring without this KEK's material, remembering its id as retired.

        The caller counts the wrapped keys still under ``key_id`` (via
        ``wrapped_key_id``); a key that still wraps anything is never dropped, or
        those families' data would be lost for good (Keystone's guard, §2.2).

        :param references: number of stored wrapped keys that still use ``key_id``.
        :raises KeyringError: if the key is active or still referenced.
        :raises UnknownKey: if the key is not in the keyring.
        """
        self.kek(key_id)
        if key_id == self.active_id:
            raise KeyringError(f"cannot retire the active key {key_id!r}")
        if references != 0:
            raise KeyringError(
                f"cannot retire key {key_id!r}: {references} wrapped keys still use it"
            )
        keys = {k: v for k, v in self.keys.items() if k != key_id}
        return Keyring(keys=keys, active_id=self.active_id, index_key=self.index_key,
                       retired=self.retired | {key_id})
