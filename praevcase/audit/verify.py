"""Verifying the audit chains against themselves, their heads and the signed checkpoint file.

Each chain ``"<tenant id>:<shard>"`` (or ``"system:<shard>"``) is streamed from the database in
seq order and checked by :func:`consent.chain.verify_chain`, which finds an edited field, a
deleted, inserted or moved row. A cut tail — the last rows deleted and the head row put back —
leaves a chain that is consistent in itself; only the checkpoint file, written outside the
database and signed with a key the database never sees (``CHECKPOINT_KEY``), shows it. So does a
superuser who rewrote history and recomputed every hash.

:func:`write_checkpoints` appends one signed line per chain head that moved since its last
checkpoint; ``flask audit checkpoint`` calls it, and so will the scheduler.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from consent.chain import ChainEvent
from consent.chain import Checkpoint
from consent.chain import VerifyResult
from consent.chain import canonical_bytes
from consent.chain import parse_checkpoint
from consent.chain import sign_checkpoint
from consent.chain import verify_chain
from consent.errors import ChainError
from praevcase.audit.models import HASHED_COLUMNS
from praevcase.audit.models import AuditChainHead
from praevcase.audit.models import AuditEvent
from praevcase.audit.operations import hashed_fields

_encode_str = json.encoder.encode_basestring_ascii

#: Rows fetched per round trip while streaming a chain (server-side cursor on PostgreSQL)
BATCH = 5000

#: German text of each problem code (consent.chain.verify_chain plus the head check here)
PROBLEM_LABELS = {
    "hash_mismatch": "Inhalt eines Eintrags verändert",
    "link_mismatch": "Verkettung unterbrochen (Eintrag gelöscht, eingefügt oder verschoben)",
    "seq_gap": "Eintrag fehlt",
    "seq_order": "Reihenfolge vertauscht",
    "tail_cut": "Ende der Kette abgeschnitten (gegenüber dem Kontrollpunkt)",
    "checkpoint_mismatch": "Kette weicht vom signierten Kontrollpunkt ab (nachträglich neu berechnet)",
    "head_mismatch": "Kettenkopf passt nicht zum letzten Eintrag (Ende gelöscht oder Kopf verändert)",
}


@dataclass(frozen=True)
class ChainReport:
    """The verdict on one chain."""

    chain: str
    result: VerifyResult
    checkpoint_seq: int | None
    head_seq: int | None

    @property
    def intact(self) -> bool:
        return self.result.intact

    @property
    def problem_label(self) -> str | None:
        problem = self.result.problem
        return None if problem is None else PROBLEM_LABELS.get(problem, problem)


@dataclass
class VerifyReport:
    """The verdict on every chain checked, with the throughput of the run."""

    chains: list[ChainReport] = field(default_factory=list)
    #: Lines of the checkpoint file that are malformed or not signed with our key
    bad_checkpoint_lines: int = 0
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(c.result.total for c in self.chains)

    @property
    def broken(self) -> list[ChainReport]:
        return [c for c in self.chains if not c.intact]

    @property
    def intact(self) -> bool:
        return not self.broken and self.bad_checkpoint_lines == 0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def chain_name(tenant_part: str, shard: int) -> str:
    return f"{tenant_part}:{shard}"


def split_chain(chain: str) -> tuple[str, int]:
    """``"<tenant id>:<shard>"`` → (tenant part, shard)."""
    tenant_part, _, shard = chain.rpartition(":")
    return tenant_part, int(shard)


def read_checkpoints(path: str | os.PathLike[str] | None, key: bytes) -> tuple[dict[str, Checkpoint], int]:
    """The latest authentic checkpoint per chain, and the number of lines that failed to verify."""
    latest: dict[str, Checkpoint] = {}
    bad = 0
    if not path or str(path) == os.devnull or not Path(path).exists():
        return latest, bad
    with open(path, encoding="ascii", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                cp = parse_checkpoint(key, line)
            except ChainError:
                bad += 1
                continue
            name = chain_name(cp.tenant_id, cp.shard)
            if name not in latest or cp.seq >= latest[name].seq:
                latest[name] = cp
    return latest, bad


_UUID_COLUMNS = frozenset({"tenant_id", "actor_user_id", "actor_agency_id", "family_ref", "consent_id"})
#: The hashed columns in canonical (sorted) order; the body builder below spells them out.
_SORTED = tuple(sorted(HASHED_COLUMNS))
assert _SORTED == ("action", "actor_agency_id", "actor_roles", "actor_user_id", "chain", "consent_id", "details",
                   "family_ref", "legal_basis", "object_id", "object_type", "occurred_dt", "outcome", "purpose",
                   "reason", "request_id", "tenant_id"), "audit columns changed: update _body() and _PG_SELECT"


#: Text that is its own JSON string body: printable ASCII without ``"`` and ``\\`` (no escape needed)
_PLAIN = r"'^[ !#-\[\]-~]*$'"


def _pg_json(name: str) -> str:
    """SQL giving column *name* in the canonical JSON form of ``consent.chain`` (NULL where Python must do it).

    UUIDs: ``"<uuid::text>"`` (``str(UUID)`` equals ``uuid::text``); timestamps: the text of
    ``datetime.isoformat()`` in UTC with microseconds; text: quoted as is when it needs no escape
    (otherwise NULL, and the row is encoded in Python); None: ``null``.
    """
    if name in _UUID_COLUMNS:
        value = f"""'"' || {name}::text || '"'"""
    elif name == "occurred_dt":
        value = """'"' || to_char(occurred_dt AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00"'"""
    else:
        value = f"""CASE WHEN {name} ~ {_PLAIN} THEN '"' || {name} || '"' END"""
    return f"CASE WHEN {name} IS NULL THEN 'null' ELSE {value} END"


def _pg_part(names: tuple[str, ...], first: bool) -> str:
    pieces = []
    for i, name in enumerate(names):
        sep = "{" if first and i == 0 else ","
        pieces.append(f"""'{sep}"{name}":' || {_pg_json(name)}""")
    return " || ".join(pieces)


_BEFORE = _SORTED[:_SORTED.index("details")]
_AFTER = _SORTED[_SORTED.index("details") + 1:]
#: seq, prev_hash, row_hash, the canonical text before "details" and after it (NULL: encode in Python), details
_PG_SELECT = (f"""SELECT seq, prev_hash, row_hash, {_pg_part(_BEFORE, True)} || ',"details":', """  # noqa: S608
              f"""{_pg_part(_AFTER, False)} || '}}', details::text FROM audit_events WHERE chain = %s ORDER BY seq""")
_PG_ROW = (f"SELECT {', '.join(f'{c}::text' if c in _UUID_COLUMNS else c for c in HASHED_COLUMNS)} "  # noqa: S608
           "FROM audit_events WHERE chain = %s AND seq = %s")
_DETAILS_CACHE: dict[str | None, str] = {None: "null"}
_DETAILS_CACHE_LIMIT = 65536


def _details(text: str | None) -> str:
    """Canonical JSON of a stored ``details`` text (cached: the same few shapes repeat)."""
    out = _DETAILS_CACHE.get(text)
    if out is None:
        if len(_DETAILS_CACHE) >= _DETAILS_CACHE_LIMIT:
            _DETAILS_CACHE.clear()
            _DETAILS_CACHE[None] = "null"
        value = json.loads(text)
        out = _DETAILS_CACHE[text] = "null" if value is None else canonical_bytes({"d": value}).decode("ascii")[5:-1]
    return out


def iter_chain(session: Session, chain: str, *, batch: int = BATCH) -> Iterator[ChainEvent]:
    """The events of one chain in seq order, streamed (never the whole chain in memory).

    On PostgreSQL a server-side cursor of the session's own connection fetches *batch* rows per
    round trip; the database writes the canonical JSON of every column but ``details`` (whose JSON
    text is canonicalised here, cached per distinct text), so neither the SQLAlchemy row layer nor
    datetime objects are in the loop; a row with a text that needs JSON escapes is read again and
    encoded by the generic encoder. Elsewhere the ORM table is read with ``yield_per``
    and the generic encoder builds the body.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor(name=f"audit_verify_{uuid.uuid4().hex[:12]}") as cursor:
            cursor.itersize = batch
            cursor.execute(_PG_SELECT, (chain,))
            details = _details
            while rows := cursor.fetchmany(batch):
                for seq, prev, row_hash, before, after, text in rows:
                    if before is None or after is None:  # a text that needs escapes: the generic encoder
                        with raw.cursor() as one:
                            values = one.execute(_PG_ROW, (chain, seq)).fetchone()
                        yield ChainEvent(seq, dict(zip(HASHED_COLUMNS, values, strict=True)), prev, row_hash)
                        continue
                    yield ChainEvent(seq, (before + details(text) + after).encode("ascii"), prev, row_hash)
        return
    events = AuditEvent.__table__
    stmt = (sa.select(events.c.seq, events.c.prev_hash, events.c.row_hash, *[events.c[k] for k in HASHED_COLUMNS])
            .where(events.c.chain == chain).order_by(events.c.seq).execution_options(yield_per=batch))
    for row in session.execute(stmt):
        yield ChainEvent(row.seq, hashed_fields(row), bytes(row.prev_hash), bytes(row.row_hash))


def _heads(session: Session) -> dict[str, tuple[int, bytes]]:
    heads = AuditChainHead.__table__
    return {r.chain: (r.seq, bytes(r.row_hash)) for r in session.execute(sa.select(heads))}


def _chains_in_events(session: Session) -> set[str]:
    return set(session.scalars(sa.select(AuditEvent.chain).distinct()))


def _belongs(chain: str, tenant_part: str | None) -> bool:
    return tenant_part is None or split_chain(chain)[0] == tenant_part


class _Watch:
    """Pass events through while noting the hash stored at one seq (the head's)."""

    def __init__(self, events: Iterator[ChainEvent], seq: int | None):
        self.events, self.seq, self.hash_at_seq = events, seq, None

    def __iter__(self) -> Iterator[ChainEvent]:
        for event in self.events:
            if event.seq == self.seq:
                self.hash_at_seq = event.row_hash
            yield event


def verify_one(session: Session, chain: str, *, checkpoint: Checkpoint | None,
               head: tuple[int, bytes] | None) -> ChainReport:
    """Verify one chain; then check that its head row points at a stored, verified event.

    The head is read before the events, so rows committed meanwhile only extend the chain.
    """
    watch = _Watch(iter_chain(session, chain), head[0] if head else None)
    result = verify_chain(watch, checkpoint=checkpoint)
    if result.intact and head is not None and head[0] > 0:
        head_seq, head_hash = head
        if head_seq > result.verified:  # rows the head vouches for are gone
            result = VerifyResult(False, result.total, result.verified, result.verified + 1, "head_mismatch")
        elif watch.hash_at_seq != head_hash:
            result = VerifyResult(False, result.total, head_seq - 1, head_seq, "head_mismatch")
    return ChainReport(chain, result, checkpoint.seq if checkpoint else None, head[0] if head else None)


def verify_chains(session: Session, *, checkpoint_file: str | None, key: bytes,
                  tenant_id: Any = None) -> VerifyReport:
    """Verify every chain (or those of *tenant_id*), each against its latest signed checkpoint.

    Chains known only from the checkpoint file (all rows deleted) are reported as cut.
    """
    started = time.perf_counter()
    tenant_part = None if tenant_id is None else str(tenant_id)
    checkpoints, bad = read_checkpoints(checkpoint_file, key)
    heads = _heads(session)
    names = sorted(c for c in set(heads) | _chains_in_events(session) | set(checkpoints) if _belongs(c, tenant_part))
    report = VerifyReport(bad_checkpoint_lines=bad)
    for name in names:
        report.chains.append(verify_one(session, name, checkpoint=checkpoints.get(name), head=heads.get(name)))
    report.seconds = time.perf_counter() - started
    return report


def verify_app_chains(session: Session, tenant_id: Any = None) -> VerifyReport:
    """verify_chains() with the running app's checkpoint file and key."""
    config = current_app.config
    return verify_chains(session, checkpoint_file=config.get("CHECKPOINT_FILE"), key=config["CHECKPOINT_KEY"],
                         tenant_id=tenant_id)


def write_checkpoints(now: datetime, *, session: Session | None = None) -> int:
    """Append a signed checkpoint for every chain whose head moved since its last one.

    Reads the committed heads, signs (seq, row_hash) with ``CHECKPOINT_KEY`` and appends to
    ``CHECKPOINT_FILE`` (fsync'd). Returns the number of lines written. Meant to run every few
    minutes (scheduler) and from ``flask audit checkpoint``; the interval is the window in which
    a cut tail could go unnoticed.
    """
    from praevcase.extensions import db

    session = session or db.session
    config = current_app.config
    path, key = config.get("CHECKPOINT_FILE"), config["CHECKPOINT_KEY"]
    if not path:
        raise RuntimeError("CHECKPOINT_FILE is not configured")
    known, _ = read_checkpoints(path, key)
    lines = []
    for chain, (seq, row_hash) in sorted(_heads(session).items()):
        if seq < 1:
            continue
        previous = known.get(chain)
        if previous is not None and previous.seq == seq and previous.row_hash == row_hash:
            continue
        tenant_part, shard = split_chain(chain)
        lines.append(sign_checkpoint(key, Checkpoint(tenant_part, shard, seq, row_hash, now)))
    if lines:
        _append_lines(path, lines)
    return len(lines)


def _append_lines(path: str, lines: list[str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="ascii") as f:
        f.write("".join(line + "\n" for line in lines))
        f.flush()
        if path != os.devnull:
            os.fsync(f.fileno())
