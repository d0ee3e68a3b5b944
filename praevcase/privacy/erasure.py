"""Erasure by crypto-shredding: the family key is destroyed, ciphertext and blind indexes go too.

Four eyes: one dpo/admin requests (:func:`request_erasure`), a different one confirms
(:func:`confirm_erasure`); the retention sweep erases on its own authority. What is left is a
tombstone without personal values, in the database and as a signed line in the tombstone file
outside it (``TOMBSTONE_FILE``), so a restored older backup can be cleaned again with
``flask privacy reapply-erasures``. Audit rows stay: they hold no personal values, so the chain
still verifies.

Other features register what they keep about a family:

* ``register_erasable_table("contacts", delete=True)`` — rows with a ``family_id`` column are
  deleted (``delete=False``: only their ``*_ct`` columns are set to NULL);
  ``register_erasable_table("lotse_contacts", through=("case_id", "cases"))`` reaches the rows
  through a parent table that has the ``family_id`` (here: the family's cases);
* ``register_erasure_hook(fn)`` — ``fn(family, now) -> int`` for anything not keyed by
  ``family_id`` (e.g. rows reached through a case). Hooks run first, in reverse order of
  registration, so a feature's dependent rows go before the rows they point at.

Every table with encrypted columns declared through ``vault.register_fields`` and a
``family_id`` column has its ciphertext set to NULL even if nobody registered it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from consent.chain import canonical_bytes
from praevcase.audit.operations import record
from praevcase.errors import Conflict
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ErasureReason
from praevcase.privacy.models import ErasureRequest
from praevcase.privacy.models import ErasureTombstone
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.vault import FIELD_CATEGORIES
from praevcase.privacy.vault import forget_grants
from praevcase.privacy.vault import forget_keys

ErasureHook = Callable[[Family, datetime], int]


@dataclass(frozen=True)
class ErasableTable:
    table: str
    family_column: str = "family_id"
    delete: bool = False
    #: (column of this table, parent table with a family_id) for rows reached through a parent
    through: tuple[str, str] | None = None
    #: further columns set to NULL with the ciphertext (values that mean nothing without it)
    clear: tuple[str, ...] = ()


#: Tables of other features holding family data, in registration order
ERASABLE_TABLES: list[ErasableTable] = []
#: Functions erasing what is not keyed by family_id
ERASURE_HOOKS: list[ErasureHook] = []
#: Encrypted tables without family_id that a hook declared it erases
ERASURE_COVERED: set[str] = set()

_BUILT_IN = {"persons", "consent_records"}
_TOMBSTONE_DOMAIN = b"praevcase-tombstone|"


def register_erasable_table(table: str, *, family_column: str = "family_id", delete: bool = False,
                            through: tuple[str, str] | None = None, clear: tuple[str, ...] = ()) -> None:
    """Declare a table whose rows of an erased family are deleted (or their ciphertext nulled)."""
    entry = ErasableTable(table, family_column, delete, through, clear)
    if entry not in ERASABLE_TABLES:
        ERASABLE_TABLES.append(entry)


def register_erasure_hook(fn: ErasureHook | None = None, *, covers: tuple[str, ...] = ()) -> Any:
    """Declare a function ``fn(family, now) -> rows changed`` run on every erasure.

    Usable as ``@register_erasure_hook`` or ``@register_erasure_hook(covers=("lotse_contacts",))``;
    *covers* names the encrypted tables without a ``family_id`` the hook takes care of, so
    :func:`uncovered_tables` can tell what no erasure reaches.
    """
    def add(hook: ErasureHook) -> ErasureHook:
        if hook not in ERASURE_HOOKS:
            ERASURE_HOOKS.append(hook)
        ERASURE_COVERED.update(covers)
        return hook

    return add if fn is None else add(fn)


def uncovered_tables() -> list[str]:
    """Tables with encrypted columns that no erasure reaches: no ``family_id``, not registered, no hook
    declared to cover them. Their ciphertext becomes unreadable with the family key anyway, but the
    rows stay — each feature should make this list empty for its tables."""
    registered = {e.table for e in ERASABLE_TABLES} | ERASURE_COVERED | _BUILT_IN
    out = []
    for name in sorted({t for t, _c in FIELD_CATEGORIES} - registered):
        table = db.metadata.tables.get(name)
        if table is None or "family_id" not in table.c:
            out.append(name)
    return out


# --- four eyes ----------------------------------------------------------------------------------


def request_erasure(family: Family, *, reason: ErasureReason, note: str | None, actor: Any,
                    now: datetime) -> ErasureRequest:
    """First pair of eyes: ask for the family's erasure (nothing is erased yet)."""
    if family.erased_dt is not None:
        raise Conflict(_("Die Daten dieser Familie sind bereits gelöscht."))
    if open_request(family) is not None:
        raise Conflict(_("Für diese Familie liegt bereits ein offener Löschantrag vor."))
    req = ErasureRequest(tenant_id=family.tenant_id, family_id=family.id, reason=reason, note=note or None,
                         requested_by_id=actor.id, requested_dt=now)
    db.session.add(req)
    db.session.flush()
    record(db.session, "privacy.erasure.request", now=now, actor=actor, object_type="erasure_request",
           object_id=req.id, family_ref=family.id, details={"reason": reason.value})
    return req


def open_request(family: Family) -> ErasureRequest | None:
    return db.session.scalar(sa.select(ErasureRequest).where(
        ErasureRequest.family_id == family.id, ErasureRequest.confirmed_dt.is_(None),
        ErasureRequest.cancelled_dt.is_(None)))


def _locked_open(req: ErasureRequest) -> ErasureRequest:
    db.session.refresh(req, with_for_update=True)
    if not req.is_open:
        raise Conflict(_("Dieser Löschantrag ist bereits erledigt."))
    return req


def cancel_erasure(req: ErasureRequest, *, actor: Any, now: datetime) -> ErasureRequest:
    """Withdraw an open request (either pair of eyes may)."""
    _locked_open(req)
    req.cancelled_dt, req.cancelled_by_id = now, actor.id
    record(db.session, "privacy.erasure.cancel", now=now, actor=actor, object_type="erasure_request",
           object_id=req.id, family_ref=req.family_id)
    return req


def confirm_erasure(req: ErasureRequest, *, actor: Any, now: datetime) -> ErasureTombstone:
    """Second pair of eyes: a *different* dpo/admin confirms, and the family is erased at once.

    :raises PermissionDenied: the requester tries to confirm their own request
    """
    _locked_open(req)
    if req.requested_by_id == actor.id:
        event = record(db.session, "privacy.erasure.confirm", now=now, actor=actor, outcome="denied",
                       reason="same_person", object_type="erasure_request", object_id=req.id,
                       family_ref=req.family_id)
        err = PermissionDenied(_("Vier-Augen-Prinzip: Eine andere Person muss die Löschung bestätigen."))
        err.audit_events = [event]  # type: ignore[attr-defined]  # kept on record after the rollback
        raise err
    family = db.session.get(Family, req.family_id, with_for_update=True)
    req.confirmed_dt, req.confirmed_by_id = now, actor.id
    db.session.flush()
    return erase_family(family, cause="request", requested_by=req.requested_by_id, approved_by=actor.id,
                        actor=actor, now=now)


# --- the erasure itself -------------------------------------------------------------------------


def _table(name: str) -> sa.Table:
    return db.metadata.tables[name]


def _erase_registered(family: Family) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in reversed(ERASABLE_TABLES):
        table = _table(entry.table)
        if entry.through is not None:
            column, parent_name = entry.through
            parent = _table(parent_name)
            where = table.c[column].in_(sa.select(parent.c.id).where(parent.c[entry.family_column] == family.id))
        else:
            where = table.c[entry.family_column] == family.id
        if entry.delete:
            counts[entry.table] = db.session.execute(sa.delete(table).where(where)).rowcount
        else:
            counts[entry.table] = _null_ciphertext(table, where, clear=entry.clear)
    return counts


def _null_ciphertext(table: sa.Table, where: Any, *, clear: tuple[str, ...] = ()) -> int:
    columns = {f"{c}_ct": None for (t, c) in FIELD_CATEGORIES if t == table.name and f"{c}_ct" in table.c}
    columns.update(dict.fromkeys(clear))
    if not columns:
        return 0
    return db.session.execute(sa.update(table).where(where).values(columns)).rowcount


def _erase_unregistered(family: Family, done: set[str]) -> dict[str, int]:
    """Safety net: ciphertext of every other registered encrypted table with a family_id column."""
    counts = {}
    for name in sorted({t for t, _c in FIELD_CATEGORIES} - done):
        table = db.metadata.tables.get(name)
        if table is not None and "family_id" in table.c:
            counts[name] = _null_ciphertext(table, table.c.family_id == family.id)
    return counts


def erase_family(family: Family, *, cause: str, requested_by: uuid.UUID | None, approved_by: uuid.UUID | None,
                 actor: Any, now: datetime, write_file: bool = True,
                 erased_dt: datetime | None = None) -> ErasureTombstone:
    """Destroy the family key, delete persons and blind indexes, null every ciphertext, leave a tombstone.

    The caller holds the family row ``FOR UPDATE``. Idempotent: an erased family keeps its
    first tombstone. The tombstone line is appended to ``TOMBSTONE_FILE`` before the commit, so a
    crash in between errs on the side of erasure.
    """
    db.session.flush()  # rows added but not yet written must be erased too
    existing = db.session.scalar(sa.select(ErasureTombstone).where(ErasureTombstone.family_id == family.id))
    if family.erased_dt is not None and existing is not None:
        return existing
    counts: dict[str, int] = {}
    for hook in reversed(ERASURE_HOOKS):
        counts[getattr(hook, "__name__", "hook")] = hook(family, now)
    counts.update(_erase_registered(family))
    persons = _table("persons")
    deleted_persons = set(db.session.scalars(
        sa.delete(persons).where(persons.c.family_id == family.id).returning(persons.c.id)))
    counts["persons"] = len(deleted_persons)
    consents = _table("consent_records")
    counts["consent_records"] = db.session.execute(
        sa.update(consents).where(consents.c.family_id == family.id).values(child_view_ct=None, evidence_ct=None)
    ).rowcount
    counts.update(_erase_unregistered(family, _BUILT_IN | {e.table for e in ERASABLE_TABLES}))
    db.session.execute(sa.update(_table("erasure_requests")).where(
        _table("erasure_requests").c.family_id == family.id).values(note=None))
    family.wrapped_key, family.kek_id = None, None
    family.erased_dt = family.erased_dt or erased_dt or now
    tomb = existing or ErasureTombstone(tenant_id=family.tenant_id, family_id=family.id,
                                        case_number=family.case_number, erased_dt=family.erased_dt, cause=cause,
                                        requested_by=requested_by, approved_by=approved_by)
    db.session.add(tomb)
    db.session.flush()
    # rows of this family still in the identity map must not outlive the erasure in memory
    # (by primary key: touching an attribute of an expired row would try to reload a deleted one)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Person) and sa.inspect(obj).identity[0] in deleted_persons:
            db.session.expunge(obj)
        elif isinstance(obj, ConsentRecord) and sa.inspect(obj).dict.get("family_id", family.id) == family.id:
            db.session.expire(obj)
    forget_keys()
    forget_grants()
    record(db.session, "privacy.erasure", now=now, actor=actor, tenant_id=family.tenant_id, object_type="family",
           object_id=family.id, family_ref=family.id,
           details={"cause": cause, "rows": {k: v for k, v in sorted(counts.items()) if v}})
    if write_file:
        append_tombstone(tomb)
    return tomb


# --- the tombstone file outside the database ----------------------------------------------------


def _tombstone_payload(tomb: ErasureTombstone) -> dict[str, Any]:
    return {"family_id": str(tomb.family_id), "tenant_id": str(tomb.tenant_id), "case_number": tomb.case_number,
            "erased_dt": tomb.erased_dt.isoformat(), "cause": tomb.cause,
            "requested_by": str(tomb.requested_by) if tomb.requested_by else None,
            "approved_by": str(tomb.approved_by) if tomb.approved_by else None}


def _mac(key: bytes, payload: dict[str, Any]) -> str:
    return hmac.new(key, _TOMBSTONE_DOMAIN + canonical_bytes(payload), hashlib.sha256).hexdigest()


def tombstone_line(tomb: ErasureTombstone, key: bytes) -> str:
    """One JSON line, signed with the checkpoint key (forged lines must not erase anything)."""
    payload = _tombstone_payload(tomb)
    return json.dumps({**payload, "sig": _mac(key, payload)}, sort_keys=True)


def append_tombstone(tomb: ErasureTombstone) -> None:
    path = current_app.config.get("TOMBSTONE_FILE")
    if not path:
        raise RuntimeError("TOMBSTONE_FILE is not configured")
    line = tombstone_line(tomb, current_app.config["CHECKPOINT_KEY"])
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        if path != os.devnull:
            os.fsync(f.fileno())


def read_tombstones(path: str | None, key: bytes) -> tuple[list[dict[str, Any]], int]:
    """Authentic tombstone entries of the file, and the number of lines that failed to verify."""
    entries: list[dict[str, Any]] = []
    bad = 0
    if not path or path == os.devnull or not Path(path).exists():
        return entries, bad
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            sig = data.pop("sig")
            ok = isinstance(sig, str) and hmac.compare_digest(sig.encode(), _mac(key, data).encode())
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if ok:
            entries.append(data)
        else:
            bad += 1
    return entries, bad


@dataclass
class ReapplyResult:
    reapplied: int = 0
    already: int = 0
    absent: int = 0
    bad_lines: int = 0


def reapply_erasures(*, now: datetime, path: str | None, key: bytes) -> ReapplyResult:
    """After a restore: erase again every family the tombstone file names (scope: all tenants)."""
    entries, bad = read_tombstones(path, key)
    result = ReapplyResult(bad_lines=bad)
    for entry in entries:
        family = db.session.get(Family, uuid.UUID(entry["family_id"]), with_for_update=True)
        if family is None:
            result.absent += 1
            continue
        has_tomb = db.session.scalar(sa.select(ErasureTombstone.id).where(ErasureTombstone.family_id == family.id))
        if family.erased_dt is not None and has_tomb is not None:
            result.already += 1
            continue
        erase_family(family, cause=entry["cause"], actor=None, now=now, write_file=False,
                     erased_dt=datetime.fromisoformat(entry["erased_dt"]),
                     requested_by=uuid.UUID(entry["requested_by"]) if entry.get("requested_by") else None,
                     approved_by=uuid.UUID(entry["approved_by"]) if entry.get("approved_by") else None)
        result.reapplied += 1
    return result
