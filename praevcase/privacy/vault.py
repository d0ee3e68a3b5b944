"""The one path to personal data: seal() on the way in, reveal() on the way out.

reveal() asks the consent policy, decrypts with row-bound associated data and queues the access
event in the same transaction — for denied attempts too. There is no column type or property
that decrypts silently; nothing else in praevcase calls consent.crypto.decrypt_field.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from consent import crypto
from consent.crypto import FieldContext
from consent.policy import ConsentGrant
from consent.policy import Decision
from consent.policy import Subject
from consent.policy import Viewer
from consent.policy import decide
from consent.scopes import DataCategory
from consent.scopes import LegalBasis
from consent.scopes import Purpose
from praevcase.audit.operations import record
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.keys import keyring
from praevcase.permissions import effective_roles
from praevcase.privacy.models import PERSON_FIELDS
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Family

#: (table, column) -> data category, for every encrypted column of every feature.
FIELD_CATEGORIES: dict[tuple[str, str], DataCategory] = {("persons", c): cat for c, cat in PERSON_FIELDS.items()}
FIELD_CATEGORIES.update({
    ("consent_records", "child_view"): DataCategory.family_situation,
    ("consent_records", "evidence"): DataCategory.identity,
})

_DEK_CACHE = "family_deks"
_GRANT_CACHE = "family_grants"


def register_fields(table: str, categories: dict[str, DataCategory]) -> None:
    """Declare the encrypted columns of a feature's table and their data categories."""
    for column, category in categories.items():
        FIELD_CATEGORIES[(table, column)] = category


class FamilyErased(PermissionDenied):
    """The family was erased (its key destroyed): nothing of it can be decrypted."""

    code = "erased"

    def default_message(self) -> str:
        return _("Die Daten dieser Familie wurden gelöscht.")


class ConsentRequired(PermissionDenied):
    """The policy denied the access; the denial is in the audit log."""

    code = "consent_required"

    def __init__(self, decision: Decision, audit_event: dict[str, Any]):
        super().__init__(_("Die Einwilligung der Familie deckt diesen Zugriff nicht ab."))
        self.decision = decision
        self.audit_events = [audit_event]


@dataclass(frozen=True)
class Denied:
    """What a page shows instead of a value the viewer may not see."""

    reason: str

    def __str__(self) -> str:
        return _("Einwilligung deckt Ihre Stelle nicht ab")

    def __bool__(self) -> bool:
        return False


# --- keys and sealing -------------------------------------------------------------------------


def new_family_key(tenant_id: uuid.UUID, family_id: uuid.UUID, dek_version: int = 1) -> tuple[bytes, str]:
    """A fresh data key for a family, wrapped under the active KEK; returns (wrapped, kek_id)."""
    wrapped = crypto.wrap_data_key(keyring(), crypto.new_data_key(), tenant_id=str(tenant_id),
                                   family_id=str(family_id), dek_version=dek_version)
    return wrapped, crypto.wrapped_key_id(wrapped)


def family_dek(family: Family) -> bytes:
    """The family's unwrapped data key (cached for this session only)."""
    if family.wrapped_key is None:
        raise FamilyErased()
    cache = db.session.info.setdefault(_DEK_CACHE, {})
    key = (family.id, family.wrapped_key)
    if key not in cache:
        cache[key] = crypto.unwrap_data_key(keyring(), family.wrapped_key, tenant_id=str(family.tenant_id),
                                            family_id=str(family.id), dek_version=family.dek_version)
    return cache[key]


def forget_keys() -> None:
    """Drop cached data keys (after rotation or erasure)."""
    db.session.info.pop(_DEK_CACHE, None)


def _context(family: Family, obj: Any, column: str) -> FieldContext:
    return FieldContext(str(family.tenant_id), obj.__tablename__, column, str(obj.id), str(family.id))


def seal(family: Family, obj: Any, column: str, value: str | bytes | None) -> None:
    """Encrypt *value* into ``obj.<column>_ct``, bound to tenant, table, column, row and family."""
    if (obj.__tablename__, column) not in FIELD_CATEGORIES:
        raise KeyError(f"{obj.__tablename__}.{column} is not a registered encrypted field")
    if obj.id is None:
        raise ValueError("the row id must be set before sealing (it is part of the associated data)")
    blob = None if value is None else crypto.encrypt_field(family_dek(family), value, _context(family, obj, column),
                                                           dek_version=family.dek_version)
    setattr(obj, f"{column}_ct", blob)


# --- consent and reveal -----------------------------------------------------------------------


def viewer_of(actor: Any) -> Viewer:
    return Viewer(user_id=str(actor.id), tenant_id=str(actor.tenant_id), agency_id=str(actor.agency_id),
                  roles=frozenset(r.value for r in effective_roles(actor)))


def subject_of(family: Family) -> Subject:
    return Subject(tenant_id=str(family.tenant_id), family_id=str(family.id),
                   holder_agency_ids=frozenset({str(family.holder_agency_id)}))


def grant_of(rec: ConsentRecord) -> ConsentGrant:
    return ConsentGrant(consent_id=str(rec.id), family_id=str(rec.family_id), purposes=frozenset(rec.purposes),
                        categories=frozenset(rec.categories), recipient_agency_ids=frozenset(rec.recipient_agency_ids),
                        valid_from=rec.valid_from, valid_until=rec.valid_until, withdrawn_at=rec.withdrawn_dt,
                        superseded_at=rec.superseded_dt)


def grants_for(family_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[ConsentGrant]]:
    """Consent grants per family, read once per session (forget_grants() after a change)."""
    cache: dict[uuid.UUID, list[ConsentGrant]] = db.session.info.setdefault(_GRANT_CACHE, {})
    missing = [f for f in set(family_ids) if f not in cache]
    if missing:
        for f in missing:
            cache[f] = []
        rows = db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.family_id.in_(missing)))
        for rec in rows:
            cache[rec.family_id].append(grant_of(rec))
    return {f: cache[f] for f in family_ids}


def forget_grants() -> None:
    """Consents changed in this session: the next decision reads them again."""
    db.session.info.pop(_GRANT_CACHE, None)


def check_access(family: Family, categories: Iterable[DataCategory], *, actor: Any, purpose: Purpose,
                 now: datetime, legal_basis: LegalBasis | None = None,
                 grants: Sequence[ConsentGrant] | None = None) -> list[Decision]:
    """The policy's decision for each category (no decryption, no audit event)."""
    if grants is None:
        grants = grants_for([family.id])[family.id]
    viewer, subject = viewer_of(actor), subject_of(family)
    return [decide(viewer=viewer, subject=subject, category=c, purpose=purpose, grants=grants, now=now,
                   legal_basis=legal_basis) for c in categories]


def _categories(obj: Any, columns: Sequence[str]) -> list[DataCategory]:
    return sorted({FIELD_CATEGORIES[(obj.__tablename__, c)] for c in columns})


def _event(family: Family, obj: Any, columns: Sequence[str], decisions: list[Decision], *, actor: Any,
           purpose: Purpose, now: datetime, outcome: str, reason: str | None) -> dict[str, Any]:
    first = next((d for d in decisions if d.allowed == (outcome == "granted")), decisions[0])
    return record(
        db.session, "data.reveal", now=now, actor=actor, outcome=outcome, reason=reason,
        object_type=obj.__tablename__, object_id=obj.id, family_ref=family.id, purpose=purpose,
        legal_basis=first.legal_basis, consent_id=uuid.UUID(first.consent_id) if first.consent_id else None,
        details={"fields": list(columns), "categories": [c.value for c in _categories(obj, columns)]},
    )


def reveal(family: Family, obj: Any, columns: Sequence[str], *, actor: Any, purpose: Purpose, now: datetime,
           legal_basis: LegalBasis | None = None, on_denial: str = "raise",
           grants: Sequence[ConsentGrant] | None = None) -> dict[str, Any]:
    """Check consent, decrypt *columns* of *obj* and record the access — granted or denied.

    :param on_denial: "raise" (ConsentRequired, the denial stays in the audit log) or
        "mark" (return :class:`Denied` markers, for pages that show what the viewer may not see)
    :raises ConsentRequired: the policy denies one of the columns' categories
    :raises FamilyErased: the family's key was destroyed
    """
    decisions = check_access(family, _categories(obj, columns), actor=actor, purpose=purpose, now=now,
                             legal_basis=legal_basis, grants=grants)
    if family.wrapped_key is None:
        event = _event(family, obj, columns, decisions, actor=actor, purpose=purpose, now=now,
                       outcome="denied", reason="erased")
        if on_denial == "raise":
            raise FamilyErased()
        return {c: Denied("erased") for c in columns}
    denied = next((d for d in decisions if not d.allowed), None)
    if denied is not None:
        event = _event(family, obj, columns, decisions, actor=actor, purpose=purpose, now=now,
                       outcome="denied", reason=denied.reason.value)
        if on_denial == "raise":
            raise ConsentRequired(denied, event)
        return {c: Denied(denied.reason.value) for c in columns}
    dek = family_dek(family)
    values = {}
    for column in columns:
        blob = getattr(obj, f"{column}_ct")
        values[column] = None if blob is None else crypto.decrypt_field(dek, blob, _context(family, obj, column))
    _event(family, obj, columns, decisions, actor=actor, purpose=purpose, now=now, outcome="granted", reason=None)
    return values


def reveal_many(items: Sequence[tuple[Family, Any]], columns: Sequence[str], *, actor: Any, purpose: Purpose,
                now: datetime, legal_basis: LegalBasis | None = None) -> list[dict[str, Any]]:
    """reveal() for a list page: consents of all families read in one query; denied rows are marked."""
    grants = grants_for([f.id for f, _ in items])
    return [reveal(f, obj, columns, actor=actor, purpose=purpose, now=now, legal_basis=legal_basis,
                   on_denial="mark", grants=grants[f.id]) for f, obj in items]
