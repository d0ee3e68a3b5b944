"""Hash-chained audit log: canonical encoding, tamper detection, signed checkpoints."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.chain import GENESIS
from consent.chain import ChainEvent
from consent.chain import Checkpoint
from consent.chain import VerifyResult
from consent.chain import canonical_bytes
from consent.chain import link
from consent.chain import parse_checkpoint
from consent.chain import sign_checkpoint
from consent.chain import verify_chain
from consent.errors import ChainError
from consent.errors import ConsentKernelError
from consent.policy import Reason
from consent.scopes import Purpose

UTC = datetime.UTC
T0 = datetime.datetime(2026, 1, 1, tzinfo=UTC)
KEY = bytes(range(32))
ACTORS = [uuid.UUID(int=i) for i in range(1, 6)]


def fields_for(seq: int) -> dict[str, Any]:
    return {
        "occurred_dt": T0 + datetime.timedelta(seconds=seq),
        "tenant_id": "moers",
        "action": "data.reveal",
        "actor_user_id": ACTORS[seq % len(ACTORS)],
        "family_ref": uuid.UUID(int=10_000 + seq % 37),
        "purpose": Purpose.team_review,
        "outcome": Reason.consent_active if seq % 3 else Reason.consent_withdrawn,
        "details": {"fields": ["last_name", "birth_date"], "count": seq},
        "consent_id": None,
    }


def build_chain(n: int) -> list[ChainEvent]:
    events = []
    prev = GENESIS
    for seq in range(1, n + 1):
        fields = fields_for(seq)
        row_hash = link(prev, seq, fields)
        events.append(ChainEvent(seq=seq, fields=fields, prev_hash=prev, row_hash=row_hash))
        prev = row_hash
    return events


CHAIN = build_chain(1000)


def checkpoint_at(seq: int, events: list[ChainEvent] = CHAIN) -> Checkpoint:
    return Checkpoint(
        tenant_id="moers", shard=0, seq=seq, row_hash=events[seq - 1].row_hash,
        created_at=T0 + datetime.timedelta(hours=1),
    )


def broken(result: VerifyResult) -> tuple[str | None, int | None, int]:
    return result.problem, result.broken_at, result.verified


# --- intact chains -----------------------------------------------------------------


def test_intact_chain_of_1000_events_verifies() -> None:
    result = verify_chain(CHAIN, checkpoint=checkpoint_at(1000))
    assert result == VerifyResult(True, 1000, 1000, None, None)
    assert result


def test_chain_longer_than_its_checkpoint_verifies() -> None:
    assert verify_chain(CHAIN, checkpoint=checkpoint_at(500)).intact


def test_empty_chain_is_intact_without_checkpoint() -> None:
    assert verify_chain([]) == VerifyResult(True, 0, 0, None, None)


def test_events_are_consumed_once_from_a_stream() -> None:
    consumed = []

    def stream() -> Iterator[ChainEvent]:
        for event in CHAIN:
            consumed.append(event.seq)
            yield event

    assert verify_chain(stream()).intact
    assert consumed == list(range(1, 1001))


# --- tampering -----------------------------------------------------------------------


def test_edited_field_is_a_hash_mismatch_at_that_row() -> None:
    events = list(CHAIN)
    events[499] = dataclasses.replace(
        events[499], fields={**events[499].fields, "outcome": Reason.own_agency}
    )
    result = verify_chain(events)
    assert broken(result) == ("hash_mismatch", 500, 499)
    assert result.total == 1000 and not result


def test_edited_row_with_recomputed_hash_breaks_the_next_link() -> None:
    events = list(CHAIN)
    fields = {**events[499].fields, "action": "auth.login"}
    events[499] = dataclasses.replace(
        events[499], fields=fields, row_hash=link(events[499].prev_hash, 500, fields)
    )
    assert broken(verify_chain(events)) == ("link_mismatch", 501, 500)


def test_deleted_row_is_a_seq_gap() -> None:
    events = CHAIN[:299] + CHAIN[300:]
    result = verify_chain(events)
    assert broken(result) == ("seq_gap", 300, 299)
    assert result.total == 999


def test_deleted_row_with_renumbering_is_a_link_mismatch() -> None:
    events = CHAIN[:299] + [dataclasses.replace(e, seq=e.seq - 1) for e in CHAIN[300:]]
    assert broken(verify_chain(events)) == ("link_mismatch", 300, 299)


def test_deleted_first_row_is_detected() -> None:
    assert broken(verify_chain(CHAIN[1:])) == ("seq_gap", 1, 0)


def test_swapped_rows_delivered_out_of_order_are_a_seq_order_problem() -> None:
    events = list(CHAIN)
    events[399], events[400] = events[400], events[399]
    result = verify_chain(events)
    assert broken(result) == ("seq_order", 400, 399)
    assert result.total == 1000


def test_swapped_row_contents_are_a_link_mismatch() -> None:
    # The attacker exchanges two rows' data but the identity column keeps its order.
    events = list(CHAIN)
    a, b = events[399], events[400]
    events[399] = dataclasses.replace(b, seq=400)
    events[400] = dataclasses.replace(a, seq=401)
    assert broken(verify_chain(events)) == ("link_mismatch", 400, 399)


def test_duplicated_row_is_a_seq_order_problem() -> None:
    events = CHAIN[:600] + [CHAIN[599]] + CHAIN[600:]
    assert broken(verify_chain(events)) == ("seq_order", 601, 600)


def test_inserted_row_is_a_link_mismatch_after_it() -> None:
    # A forged row with a correct hash of its own, later rows renumbered.
    forged_fields = {**fields_for(201), "action": "consent.grant"}
    forged = ChainEvent(
        seq=201, fields=forged_fields, prev_hash=CHAIN[199].row_hash,
        row_hash=link(CHAIN[199].row_hash, 201, forged_fields),
    )
    events = CHAIN[:200] + [forged] + [dataclasses.replace(e, seq=e.seq + 1) for e in CHAIN[200:]]
    assert broken(verify_chain(events)) == ("link_mismatch", 202, 201)


def test_cut_tail_is_detected_against_a_checkpoint() -> None:
    result = verify_chain(CHAIN[:900], checkpoint=checkpoint_at(950))
    assert result == VerifyResult(False, 900, 900, 901, "tail_cut")
    # Without the checkpoint a clean cut is invisible: that is what checkpoints are for.
    assert verify_chain(CHAIN[:900]).intact


def test_empty_chain_with_checkpoint_is_a_cut_tail() -> None:
    assert broken(verify_chain([], checkpoint=checkpoint_at(1))) == ("tail_cut", 1, 0)


def test_rewritten_history_is_caught_by_the_checkpoint() -> None:
    # Someone with superuser rights rewrites a row and recomputes every later hash.
    fields = {**fields_for(10), "actor_user_id": ACTORS[3]}
    original = CHAIN[9].fields
    assert fields != original
    rewritten = CHAIN[:9]
    prev = CHAIN[8].row_hash
    for event in CHAIN[9:]:
        new_fields = fields if event.seq == 10 else event.fields
        row_hash = link(prev, event.seq, new_fields)
        rewritten.append(ChainEvent(event.seq, new_fields, prev, row_hash))
        prev = row_hash
    assert verify_chain(rewritten).intact
    result = verify_chain(rewritten, checkpoint=checkpoint_at(700))
    assert broken(result) == ("checkpoint_mismatch", 700, 699)


def test_wrong_genesis_is_a_link_mismatch() -> None:
    first = dataclasses.replace(CHAIN[0], prev_hash=b"\x01" * 32)
    assert broken(verify_chain([first, *CHAIN[1:]])) == ("link_mismatch", 1, 0)


@given(index=st.integers(min_value=0, max_value=len(CHAIN) - 1),
       field=st.sampled_from(sorted(fields_for(1))),
       value=st.one_of(st.text(max_size=20), st.integers(), st.none(), st.uuids()))
def test_any_single_edit_is_detected_at_that_seq(index: int, field: str, value: object) -> None:
    event = CHAIN[index]
    edited = {**event.fields, field: value}
    if canonical_bytes(edited) == canonical_bytes(event.fields):
        return  # "edited" to the same value: nothing to detect
    events = list(CHAIN)
    events[index] = dataclasses.replace(event, fields=edited)
    result = verify_chain(events)
    assert broken(result) == ("hash_mismatch", event.seq, event.seq - 1)
    assert result.total == len(CHAIN)


# --- canonical bytes ------------------------------------------------------------------


def test_canonical_bytes_do_not_depend_on_dict_order() -> None:
    fields = fields_for(7)
    reordered = dict(reversed(list(fields.items())))
    reordered["details"] = dict(reversed(list(fields["details"].items())))
    assert list(reordered) != list(fields)
    assert canonical_bytes(reordered) == canonical_bytes(fields)


def test_canonical_bytes_format() -> None:
    class Colour(enum.Enum):
        red = 1

    berlin = datetime.timezone(datetime.timedelta(hours=2))
    fields = {
        "b": b"\x00\xff",
        "a": datetime.datetime(2026, 1, 1, 14, 0, tzinfo=berlin),
        "c": uuid.UUID(int=1),
        "d": Purpose.referral,
        "e": None,
        "f": [True, False, 3, "ü\n"],
        "g": datetime.date(2026, 2, 3),
        "h": Colour.red,
        "i": {"y": (1,), "x": -5},
    }
    assert canonical_bytes(fields) == (
        b'{"a":"2026-01-01T12:00:00.000000+00:00","b":"00ff",'
        b'"c":"00000000-0000-0000-0000-000000000001","d":"referral","e":null,'
        b'"f":[true,false,3,"\\u00fc\\n"],"g":"2026-02-03","h":1,"i":{"x":-5,"y":[1]}}'
    )
    assert json.loads(canonical_bytes(fields))["f"][3] == "ü\n"


def test_datetimes_are_normalised_to_utc_with_microseconds() -> None:
    berlin = datetime.timezone(datetime.timedelta(hours=1))
    moment = datetime.datetime(2026, 1, 1, 1, 0, 0, 5, tzinfo=berlin)
    assert canonical_bytes({"t": moment}) == b'{"t":"2026-01-01T00:00:00.000005+00:00"}'
    assert canonical_bytes({"t": moment}) == canonical_bytes({"t": moment.astimezone(UTC)})


@pytest.mark.parametrize(
    "value", [1.5, {1, 2}, frozenset(), object(), bytearray(b"x"), complex(1, 1)]
)
def test_canonical_bytes_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_bytes({"x": value})


def test_canonical_bytes_rejects_non_str_keys_and_naive_datetimes() -> None:
    with pytest.raises(TypeError):
        canonical_bytes({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        canonical_bytes({"x": {True: "x"}})
    with pytest.raises(ValueError):
        canonical_bytes({"t": datetime.datetime(2026, 1, 1)})


def test_str_and_int_values_do_not_collide() -> None:
    assert canonical_bytes({"x": 1}) != canonical_bytes({"x": "1"})
    assert canonical_bytes({"x": None}) != canonical_bytes({"x": "null"})


def test_link_validates_its_inputs() -> None:
    with pytest.raises(ValueError):
        link(b"short", 1, {})
    with pytest.raises(ValueError):
        link(GENESIS, 0, {})


# --- signed checkpoints ----------------------------------------------------------------


def test_checkpoint_round_trip_is_one_line() -> None:
    cp = checkpoint_at(1000)
    line = sign_checkpoint(KEY, cp)
    assert "\n" not in line
    assert parse_checkpoint(KEY, line) == cp


def test_forged_checkpoint_is_rejected() -> None:
    line = sign_checkpoint(KEY, checkpoint_at(1000))
    data = json.loads(line)
    data["seq"] = 900
    data["row_hash"] = CHAIN[899].row_hash.hex()
    with pytest.raises(ChainError, match="signature"):
        parse_checkpoint(KEY, json.dumps(data))


def test_checkpoint_signed_with_another_key_is_rejected() -> None:
    line = sign_checkpoint(bytes(32), checkpoint_at(1000))
    with pytest.raises(ChainError, match="signature"):
        parse_checkpoint(KEY, line)


@pytest.mark.parametrize(
    "line",
    ["", "not json", "[]", '{"seq": 1}', '{"format":1,"tenant_id":"t","shard":0,"seq":1,'
     '"row_hash":"00","created_at":"x","sig":"\\u00fc"}'],
)
def test_malformed_checkpoint_line_is_a_chain_error(line: str) -> None:
    with pytest.raises(ChainError):
        parse_checkpoint(KEY, line)
    assert issubclass(ChainError, ConsentKernelError)


def test_short_checkpoint_key_is_refused() -> None:
    with pytest.raises(ValueError):
        sign_checkpoint(b"short", checkpoint_at(1))


def test_checkpoint_validates_its_fields() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(checkpoint_at(1), seq=0)
    with pytest.raises(ValueError):
        dataclasses.replace(checkpoint_at(1), row_hash=b"x")
    with pytest.raises(ValueError):
        dataclasses.replace(checkpoint_at(1), created_at=datetime.datetime(2026, 1, 1))
