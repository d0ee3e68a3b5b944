"""Envelope encryption, keyring handling and blind indexes of the consent kernel."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.crypto import FIELD_V1
from consent.crypto import WRAPPED_DEK_V1
from consent.crypto import FieldContext
from consent.crypto import Keyring
from consent.crypto import blind_index
from consent.crypto import decrypt_field
from consent.crypto import encrypt_field
from consent.crypto import family_match_index
from consent.crypto import field_dek_version
from consent.crypto import new_data_key
from consent.crypto import normalize_name
from consent.crypto import rewrap_data_key
from consent.crypto import unwrap_data_key
from consent.crypto import wrap_data_key
from consent.crypto import wrapped_key_id
from consent.errors import ConsentKernelError
from consent.errors import DecryptionFailed
from consent.errors import KeyringError
from consent.errors import UnknownKey
from consent.errors import UnsupportedFormat

CTX = FieldContext(
    tenant_id="tenant-moers", table="person", column="last_name", row_id="row-1",
    family_id="family-1",
)
BINDING: dict[str, Any] = {"tenant_id": "tenant-moers", "family_id": "family-1", "dek_version": 1}


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture
def dek() -> bytes:
    return new_data_key()


# --- field encryption ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["Müller-Lüdenscheidt", "", "🙂 Ünïcödé", b"\x00\xffscan", b""])
def test_round_trip_returns_the_same_type_and_value(dek: bytes, value: str | bytes) -> None:
    blob = encrypt_field(dek, value, CTX, dek_version=3)
    result = decrypt_field(dek, blob, CTX)
    assert result == value
    assert type(result) is type(value)
    assert field_dek_version(blob) == 3


def test_two_encryptions_of_the_same_value_differ(dek: bytes) -> None:
    first = encrypt_field(dek, "Müller", CTX, dek_version=1)
    second = encrypt_field(dek, "Müller", CTX, dek_version=1)
    assert first != second
    assert first[5:17] != second[5:17]  # the nonces


def test_blob_layout_is_version_dek_version_nonce_ciphertext(dek: bytes) -> None:
    blob = encrypt_field(dek, b"x" * 10, CTX, dek_version=0x01020304)
    assert blob[0] == FIELD_V1
    assert blob[1:5] == bytes([1, 2, 3, 4])
    # nonce 12 + type tag 1 + value 10 + GCM tag 16
    assert len(blob) == 1 + 4 + 12 + 1 + 10 + 16


@pytest.mark.parametrize(
    "moved",
    [
        dataclasses.replace(CTX, row_id="row-2"),
        dataclasses.replace(CTX, column="first_name"),
        dataclasses.replace(CTX, table="contact"),
        dataclasses.replace(CTX, family_id="family-2"),
        dataclasses.replace(CTX, tenant_id="tenant-kleve"),
    ],
    ids=["row", "column", "table", "family", "tenant"],
)
def test_ciphertext_copied_elsewhere_fails(dek: bytes, moved: FieldContext) -> None:
    blob = encrypt_field(dek, "Müller", CTX, dek_version=1)
    with pytest.raises(DecryptionFailed):
        decrypt_field(dek, blob, moved)


def test_context_parts_cannot_be_shifted_between_fields(dek: bytes) -> None:
    # Plain concatenation would make ("ab", "c") and ("a", "bc") the same AAD.
    a = FieldContext("t", "person", "ab", "c", "f")
    b = FieldContext("t", "person", "a", "bc", "f")
    assert a.aad(1) != b.aad(1)
    with pytest.raises(DecryptionFailed):
        decrypt_field(dek, encrypt_field(dek, "x", a, dek_version=1), b)


def test_wrong_data_key_fails(dek: bytes) -> None:
    blob = encrypt_field(dek, "Müller", CTX, dek_version=1)
    with pytest.raises(DecryptionFailed):
        decrypt_field(new_data_key(), blob, CTX)


def test_changed_dek_version_in_header_fails(dek: bytes) -> None:
    blob = bytearray(encrypt_field(dek, "Müller", CTX, dek_version=1))
    blob[4] = 2
    with pytest.raises(DecryptionFailed):
        decrypt_field(dek, bytes(blob), CTX)
    blob[4] = 0  # version 0 is invalid, must still be a DecryptionFailed
    with pytest.raises(DecryptionFailed):
        decrypt_field(dek, bytes(blob), CTX)


def test_every_flipped_byte_is_detected(dek: bytes) -> None:
    blob = encrypt_field(dek, "Müller", CTX, dek_version=1)
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionFailed):
            decrypt_field(dek, bytes(tampered), CTX)


@pytest.mark.parametrize("length", [0, 1, 5, 17, 33, 34 + 5])
def test_truncated_ciphertext_fails(dek: bytes, length: int) -> None:
    blob = encrypt_field(dek, "Müller-Lüdenscheidt", CTX, dek_version=1)
    with pytest.raises(DecryptionFailed):
        decrypt_field(dek, blob[:length], CTX)


def test_unknown_format_byte_is_unsupported_format(dek: bytes) -> None:
    blob = encrypt_field(dek, "Müller", CTX, dek_version=1)
    with pytest.raises(UnsupportedFormat):
        decrypt_field(dek, b"\x02" + blob[1:], CTX)
    with pytest.raises(UnsupportedFormat):
        field_dek_version(b"\x02" + blob[1:])


def test_decryption_error_never_contains_plaintext_or_key(dek: bytes) -> None:
    blob = encrypt_field(dek, "Geheimname", CTX, dek_version=1)
    with pytest.raises(DecryptionFailed) as excinfo:
        decrypt_field(dek, blob, dataclasses.replace(CTX, row_id="row-2"))
    message = str(excinfo.value) + repr(excinfo.value)
    assert "Geheimname" not in message
    assert b64(dek) not in message and dek.hex() not in message
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_field_api_rejects_bad_arguments(dek: bytes) -> None:
    with pytest.raises(ValueError):
        encrypt_field(dek[:16], "x", CTX, dek_version=1)
    with pytest.raises(TypeError):
        encrypt_field(dek, 42, CTX, dek_version=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encrypt_field(dek, "x", CTX, dek_version=0)
    with pytest.raises(ValueError):
        FieldContext("t", "person", "last_name", "", "f")


def test_memoryview_blobs_from_drivers_are_accepted(dek: bytes) -> None:
    blob = encrypt_field(dek, "Müller", CTX, dek_version=1)
    assert decrypt_field(dek, memoryview(blob), CTX) == "Müller"  # type: ignore[arg-type]


# --- wrapped data keys ----------------------------------------------------------------


def test_wrapped_key_round_trip_and_key_id(keyring: Keyring, dek: bytes) -> None:
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    assert wrapped[0] == WRAPPED_DEK_V1
    assert wrapped_key_id(wrapped) == "k1"
    assert unwrap_data_key(keyring, wrapped, **BINDING) == dek
    assert dek not in wrapped


@pytest.mark.parametrize(
    "other",
    [
        {"family_id": "family-2"},
        {"tenant_id": "tenant-kleve"},
        {"dek_version": 2},
    ],
    ids=["family", "tenant", "version"],
)
def test_wrapped_key_is_bound_to_family_tenant_and_version(
    keyring: Keyring, dek: bytes, other: dict[str, object]
) -> None:
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(keyring, wrapped, **{**BINDING, **other})


def test_wrapped_key_under_unknown_kek_raises_unknown_key(keyring: Keyring, dek: bytes) -> None:
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    with pytest.raises(UnknownKey, match="k1"):
        unwrap_data_key(Keyring.generate("k9"), wrapped, **BINDING)
    with pytest.raises(UnknownKey):
        wrap_data_key(keyring, dek, key_id="nope", **BINDING)


def test_wrapped_key_with_other_kek_of_the_same_id_fails(keyring: Keyring, dek: bytes) -> None:
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(Keyring.generate("k1"), wrapped, **BINDING)


def test_tampered_or_truncated_wrapped_key_fails(keyring: Keyring, dek: bytes) -> None:
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    for i in range(len(wrapped)):
        tampered = bytearray(wrapped)
        tampered[i] ^= 0x01
        # A flipped key-id byte names another (unknown) key; all else fails the tag.
        with pytest.raises((DecryptionFailed, UnknownKey)):
            unwrap_data_key(keyring, bytes(tampered), **BINDING)
    for length in (0, 1, 2, len(wrapped) - 1):
        with pytest.raises(DecryptionFailed):
            unwrap_data_key(keyring, wrapped[:length], **BINDING)


def test_field_blob_is_not_accepted_as_wrapped_key(keyring: Keyring, dek: bytes) -> None:
    blob = encrypt_field(dek, "x", CTX, dek_version=1)
    with pytest.raises(UnsupportedFormat):
        wrapped_key_id(blob)


def test_rewrap_moves_to_new_active_key_and_data_still_decrypts(
    keyring: Keyring, dek: bytes
) -> None:
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    blob = encrypt_field(dek, "Müller", CTX, dek_version=1)
    rotated = keyring.with_new_active()
    assert rotated.active_id == "k2"
    rewrapped = rewrap_data_key(rotated, wrapped, **BINDING)
    assert wrapped_key_id(rewrapped) == "k2"
    # Once nothing references k1 it can go; the data key still unwraps.
    final = rotated.retire("k1", references=0)
    assert decrypt_field(unwrap_data_key(final, rewrapped, **BINDING), blob, CTX) == "Müller"
    with pytest.raises(UnknownKey, match="retired"):
        unwrap_data_key(final, wrapped, **BINDING)


def test_rewrap_on_active_key_returns_input_unchanged(keyring: Keyring, dek: bytes) -> None:
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    assert rewrap_data_key(keyring, wrapped, **BINDING) is wrapped


def test_rewrap_still_checks_a_wrapped_key_on_the_active_key(keyring: Keyring, dek: bytes) -> None:
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    with pytest.raises(DecryptionFailed):
        rewrap_data_key(keyring, wrapped, **{**BINDING, "family_id": "family-2"})


# --- keyring --------------------------------------------------------------------------


def test_keyring_json_round_trip(keyring: Keyring) -> None:
    rotated = keyring.with_new_active().retire("k1", references=0).with_new_active()
    parsed = Keyring.from_json(rotated.to_json())
    assert parsed == rotated
    assert parsed.active_id == "k3" and parsed.retired == frozenset({"k1"})


def test_keyring_json_has_the_documented_format(keyring: Keyring) -> None:
    data = json.loads(keyring.to_json())
    assert data == {
        "format": 1,
        "active": "k1",
        "keys": {"k1": b64(keyring.keys["k1"])},
        "index_key": b64(keyring.index_key),
    }


def test_new_key_id_is_never_reused(keyring: Keyring) -> None:
    rotated = keyring.with_new_active("k2").retire("k1", references=0)
    assert rotated.with_new_active().active_id == "k3"
    with pytest.raises(KeyringError):
        rotated.with_new_active("k1")
    with pytest.raises(KeyringError):
        rotated.with_new_active("k2")


def test_retiring_a_key_that_still_wraps_something_is_refused(keyring: Keyring) -> None:
    rotated = keyring.with_new_active()
    with pytest.raises(KeyringError, match="3 wrapped keys"):
        rotated.retire("k1", references=3)
    with pytest.raises(KeyringError, match="active"):
        rotated.retire("k2", references=0)


def test_keyring_is_immutable(keyring: Keyring) -> None:
    with pytest.raises(TypeError):
        keyring.keys["k2"] = os.urandom(32)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        keyring.active_id = "k2"  # type: ignore[misc]


def _valid_keyring_dict() -> dict[str, object]:
    return {
        "format": 1,
        "active": "k1",
        "keys": {"k1": b64(os.urandom(32))},
        "index_key": b64(os.urandom(32)),
    }


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d.update(format=2), "format"),
        (lambda d: d.update(format=True), "format"),
        (lambda d: d.pop("index_key"), "lacks"),
        (lambda d: d.update(extra=1), "unknown"),
        (lambda d: d.update(active="k2"), "active"),
        (lambda d: d.update(keys={}), "at least one"),
        (lambda d: d.update(keys=[]), "keys"),
        (lambda d: d["keys"].update(k2=b64(os.urandom(16))), "k2"),
        (lambda d: d["keys"].update(k2="not base64!" * 4), "k2"),
        (lambda d: d["keys"].update({"bad id": b64(os.urandom(32))}), "key id"),
        (lambda d: d.update(index_key=d["keys"]["k1"]), "index_key"),
        (lambda d: d["keys"].update(k2=d["keys"]["k1"]), "same key material"),
        (lambda d: d.update(retired=["k1"]), "retired"),
        (lambda d: d.update(retired="k0"), "retired"),
    ],
)
def test_malformed_keyring_names_the_problem_without_key_material(
    change: object, complaint: str
) -> None:
    data = _valid_keyring_dict()
    secrets = [data["index_key"], data["keys"]["k1"]]  # type: ignore[index]
    change(data)  # type: ignore[operator]
    with pytest.raises(KeyringError, match=complaint) as excinfo:
        Keyring.from_json(json.dumps(data))
    for secret in secrets:
        assert str(secret) not in str(excinfo.value)


def test_keyring_json_syntax_error_does_not_keep_the_document() -> None:
    text = json.dumps(_valid_keyring_dict())[:-1]
    with pytest.raises(KeyringError) as excinfo:
        Keyring.from_json(text)
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__


def test_keyring_json_with_duplicate_field_is_rejected() -> None:
    text = json.dumps(_valid_keyring_dict())
    text = text[:-1] + ', "active": "k1"}'
    with pytest.raises(KeyringError, match="duplicate"):
        Keyring.from_json(text)


def test_key_material_never_appears_in_repr_or_errors(keyring: Keyring, dek: bytes) -> None:
    secrets = [b64(keyring.keys["k1"]), b64(keyring.index_key), keyring.keys["k1"].hex()]
    texts = [repr(keyring), str(keyring), f"{keyring}"]
    wrapped = wrap_data_key(keyring, dek, **BINDING)
    for call in (
        lambda: unwrap_data_key(keyring, wrapped, **{**BINDING, "family_id": "x"}),
        lambda: unwrap_data_key(keyring, wrapped[:-1], **BINDING),
        lambda: Keyring.from_json(keyring.to_json().replace('"k1"', '"k2"', 1)),
        lambda: keyring.retire("k1", references=0),
    ):
        with pytest.raises(ConsentKernelError) as excinfo:
            call()
        texts += [str(excinfo.value), repr(excinfo.value)]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert repr(keyring) == "Keyring(active_id='k1', key_ids=[k1], retired=[])"


def test_keyring_file_round_trip_with_private_mode(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "keyring.json"
    keyring.to_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.from_file(path) == keyring
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]


def test_keyring_file_readable_by_others_is_refused(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "keyring.json"
    keyring.to_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        Keyring.from_file(path)
    assert Keyring.from_file(path, check_permissions=False) == keyring


def test_missing_keyring_file_is_a_keyring_error(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="cannot read"):
        Keyring.from_file(tmp_path / "missing.json")


# --- blind indexes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Müller", "mueller"),
        ("MUELLER ", "mueller"),
        ("mueller", "mueller"),
        ("Mu\u0308ller", "mueller"),  # decomposed ü
        ("Ｍüller", "mueller"),  # full-width M
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Öztürk", "oeztuerk"),
        ("Müller-Lüdenscheidt", "mueller luedenscheidt"),
        ("Müller – Lüdenscheidt", "mueller luedenscheidt"),
        ("  Jean-Luc\tO'Brien ", "jean luc obrien"),
        ("José Núñez", "jose nunez"),
        ("Łukasz Ørsted", "lukasz orsted"),
        ("Yılmaz", "yilmaz"),
        ("Çelik", "celik"),
        ("Dr. med. Weiß", "dr med weiss"),
    ],
)
def test_normalize_name_folds_spelling_variants(raw: str, normalized: str) -> None:
    assert normalize_name(raw) == normalized


@given(st.text())
def test_normalize_name_is_idempotent(value: str) -> None:
    once = normalize_name(value)
    assert normalize_name(once) == once


def test_blind_index_matches_spelling_variants(keyring: Keyring) -> None:
    indexes = {
        blind_index(keyring, tenant_id="t1", field="person.last_name", value=v)
        for v in ("Müller", "MUELLER ", "mueller", "Mu\u0308ller")
    }
    assert len(indexes) == 1
    (index,) = indexes
    assert len(index) == 8 and int(index, 16) >= 0


def test_blind_index_differs_between_tenants_fields_and_keyrings(keyring: Keyring) -> None:
    def bi(kr: Keyring, tenant: str, field: str) -> str:
        return blind_index(kr, tenant_id=tenant, field=field, value="Müller", bits=64)

    base = bi(keyring, "t1", "person.last_name")
    assert bi(keyring, "t2", "person.last_name") != base
    assert bi(keyring, "t1", "person.birth_name") != base
    assert bi(Keyring.generate(), "t1", "person.last_name") != base
    # KEK rotation leaves the index key alone, so indexes stay valid.
    assert bi(keyring.with_new_active(), "t1", "person.last_name") == base


def test_blind_index_bits_and_bad_input(keyring: Keyring) -> None:
    long = blind_index(keyring, tenant_id="t1", field="f", value="a", bits=256)
    short = blind_index(keyring, tenant_id="t1", field="f", value="a", bits=16)
    assert len(long) == 64 and len(short) == 4 and long.startswith(short)
    for bits in (0, 4, 30, 260):
        with pytest.raises(ValueError):
            blind_index(keyring, tenant_id="t1", field="f", value="a", bits=bits)
    with pytest.raises(ValueError):
        blind_index(keyring, tenant_id="t1", field="f", value=" - . ")
    with pytest.raises(ValueError):
        blind_index(keyring, tenant_id="t1|x", field="f", value="a")


def test_family_match_index_finds_the_same_family_across_spellings(keyring: Keyring) -> None:
    born = datetime.date(2019, 3, 1)

    def fmi(last: str, first: str, birth: datetime.date = born, tenant: str = "t1") -> str:
        return family_match_index(
            keyring, tenant_id=tenant, last_name=last, first_name=first, birth_date=birth
        )

    base = fmi("Müller", "Anna")
    assert fmi("MUELLER", "anna-lena") == base  # same initial
    assert fmi("Müller", "Bernd") != base
    assert fmi("Müller", "Anna", datetime.date(2019, 3, 2)) != base
    assert fmi("Müller", "Anna", tenant="t2") != base
    with pytest.raises(TypeError):
        fmi("Müller", "Anna", datetime.datetime(2019, 3, 1))
    with pytest.raises(ValueError):
        fmi("Müller", "--")
