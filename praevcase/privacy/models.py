"""Families, persons (encrypted fields only), consent templates and immutable consent records."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from consent.scopes import DataCategory
from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.statemachine import StatefulMixin
from praevcase.statemachine import state_column
from praevcase.tenancy import TenantScoped
from praevcase.tenants.models import agency_fk
from workflows.consent_record import ConsentState


class Family(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A family: pseudonymous case number, its own data key, nothing readable about its members."""

    __tablename__ = "families"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "case_number", name="uq_families_tenant_case_number"),
        agency_fk(name="fk_families_holder_agency_same_tenant", columns=("tenant_id", "holder_agency_id")),
        sa.CheckConstraint("(erased_dt IS NULL) = (wrapped_key IS NOT NULL)", name="key_iff_not_erased"),
    )

    #: Pseudonymous number shown everywhere instead of names, e.g. DN-2026-00042
    case_number: Mapped[str] = mapped_column(sa.String(24))
    sozialraum: Mapped[str | None] = mapped_column(sa.String(100))
    #: The agency that collected the data (sees it on its own legal basis)
    holder_agency_id: Mapped[uuid.UUID] = mapped_column()
    #: The family's data key, wrapped by a key-encryption key of the keyring; None after erasure
    wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: Id of the key-encryption key that wraps it (rotation, and the retire guard)
    kek_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    dek_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column()
    #: Crypto-shredding time: nothing of the family decrypts after this
    erased_dt: Mapped[datetime | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<Family {self.case_number}>"


class PersonRole(str, enum.Enum):
    child = "child"
    guardian = "guardian"


#: Encrypted person columns and the data category each belongs to.
PERSON_FIELDS: dict[str, DataCategory] = {
    "given_name": DataCategory.identity,
    "family_name": DataCategory.identity,
    "birth_date": DataCategory.identity,
    "address": DataCategory.contact,
    "phone": DataCategory.contact,
    "languages": DataCategory.family_situation,
}


class Person(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A child or a guardian. Personal values exist only as ``*_ct`` ciphertext."""

    __tablename__ = "persons"

    family_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    role: Mapped[PersonRole] = mapped_column(
        sa.Enum(PersonRole, native_enum=False, create_constraint=True, length=16, name="person_role",
                validate_strings=True))
    #: Guardians: holds custody (Sorgerecht); both custody holders sign where custody is joint
    has_custody: Mapped[bool] = mapped_column(default=False)
    #: Children: birth year in clear, for age phases in statistics (the date itself is encrypted)
    birth_year: Mapped[int | None] = mapped_column()
    given_name_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    family_name_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    birth_date_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    address_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    phone_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    languages_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: Keyed blind index over normalised family name + first initial + birth date (duplicates)
    match_index: Mapped[str | None] = mapped_column(sa.String(16), index=True)

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.role.value}>"


class ConsentTemplate(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A versioned consent text; a record binds to the exact version and language shown."""

    __tablename__ = "consent_templates"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key", "version", "language",
                                          name="uq_consent_templates_key_version_language"),)

    key: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int] = mapped_column()
    #: de, en, tr, … or de-simple for the plain-language variant
    language: Mapped[str] = mapped_column(sa.String(12))
    title: Mapped[str] = mapped_column(sa.String(200))
    #: The full text shown to the parents
    body: Mapped[str] = mapped_column(sa.Text)
    #: Plain-language ("Leichte Sprache") variant for parents
    plain_body: Mapped[str] = mapped_column(sa.Text)
    #: Purpose code -> German text of the checkbox
    purpose_texts: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    #: SHA-256 of title + body + plain_body + purpose texts: proves which text was agreed to
    text_sha256: Mapped[str] = mapped_column(sa.String(64))
    is_active: Mapped[bool] = mapped_column(default=True)


class ConsentChannel(str, enum.Enum):
    written = "written"
    electronic = "electronic"
    oral_documented = "oral_documented"


class ConsentRecord(IdMixin, TenantScoped, StatefulMixin, db.Model):
    """One consent given for one family: immutable except for its lifecycle state.

    A change is a new record that supersedes this one.
    """

    __tablename__ = "consent_records"
    __table_args__ = (
        sa.CheckConstraint("(state = 'withdrawn') = (withdrawn_dt IS NOT NULL)", name="withdrawn_dt_iff_withdrawn"),
        sa.CheckConstraint("(state = 'superseded') = (superseded_dt IS NOT NULL)", name="superseded_dt_iff_superseded"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until > valid_from", name="valid_range"),
        agency_fk(name="fk_consent_records_obtained_agency", columns=("tenant_id", "obtained_agency_id")),
    )

    family_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("consent_templates.id"))
    purposes: Mapped[list[str]] = mapped_column(sa.JSON)
    categories: Mapped[list[str]] = mapped_column(sa.JSON)
    recipient_agency_ids: Mapped[list[str]] = mapped_column(sa.JSON)
    #: [{"person_id": …, "role": "custody_holder" | "self"}] — persons of the family, no names here
    signatories: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    #: The child's own view (from the tenant's age threshold), encrypted under the family key
    child_view_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    channel: Mapped[ConsentChannel] = mapped_column(
        sa.Enum(ConsentChannel, native_enum=False, create_constraint=True, length=20, name="consent_channel",
                validate_strings=True))
    #: The signed document (scan or electronic form), encrypted under the family key
    evidence_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    evidence_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    obtained_by_id: Mapped[uuid.UUID] = mapped_column()
    obtained_agency_id: Mapped[uuid.UUID] = mapped_column()
    obtained_dt: Mapped[datetime] = mapped_column()
    valid_from: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime | None] = mapped_column()
    state: Mapped[ConsentState] = state_column(ConsentState, "consent_state", ConsentState.active)
    withdrawn_dt: Mapped[datetime | None] = mapped_column()
    #: The channel the withdrawal came through (in person, phone, written, electronic)
    withdrawn_via: Mapped[str | None] = mapped_column(sa.String(20))
    withdrawn_recorded_by_id: Mapped[uuid.UUID | None] = mapped_column()
    superseded_dt: Mapped[datetime | None] = mapped_column()
    superseded_by_id: Mapped[uuid.UUID | None] = mapped_column()

    #: Only these columns may ever change after insert (the lifecycle)
    MUTABLE = frozenset({"state", "version", "withdrawn_dt", "withdrawn_via", "withdrawn_recorded_by_id",
                         "superseded_dt", "superseded_by_id", "child_view_ct", "evidence_ct"})

    def __repr__(self) -> str:
        return f"<ConsentRecord {self.id} {self.state.value}>"


class RecordImmutable(RuntimeError):
    """Attempt to change the content of a consent record (make a new, superseding record)."""


@event.listens_for(Session, "before_flush")
def _consent_records_are_immutable(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, ConsentRecord):
            state = inspect(obj)
            changed = {a.key for a in state.attrs if a.history.has_changes()} - ConsentRecord.MUTABLE
            if changed:
                raise RecordImmutable(f"consent records are immutable ({', '.join(sorted(changed))})")


class CaseNumberCounter(db.Model):
    """Last case number per tenant and year (row-locked while drawing the next).

    Not TenantScoped: it is only ever read by its full primary key (tenant, year).
    """

    __tablename__ = "case_number_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenants.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class ErasureReason(str, enum.Enum):
    """Why a family's data is erased (Art. 17 DSGVO, § 84 SGB X)."""

    request = "request"  # the family asks for erasure (Art. 17 Abs. 1 lit. b/c)
    purpose_ended = "purpose_ended"  # no longer needed (Art. 17 Abs. 1 lit. a)
    unlawful = "unlawful"  # processed without a legal basis (lit. d)
    other = "other"


class ErasureRequest(IdMixin, TenantScoped, db.Model):
    """Four eyes before crypto-shredding: one dpo/admin requests, a different one confirms.

    Pending while neither ``confirmed_dt`` nor ``cancelled_dt`` is set. The note is metadata
    for the data-protection officer and must hold no personal data (the form says so).
    """

    __tablename__ = "erasure_requests"
    __table_args__ = (
        sa.CheckConstraint("confirmed_dt IS NULL OR cancelled_dt IS NULL", name="confirmed_xor_cancelled"),
        sa.CheckConstraint("(confirmed_dt IS NULL) = (confirmed_by_id IS NULL)", name="confirmed_by_iff_dt"),
        sa.CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> requested_by_id", name="four_eyes"),
        # at most one open request per family
        sa.Index("uq_erasure_requests_open_family", "family_id", unique=True,
                 postgresql_where=sa.text("confirmed_dt IS NULL AND cancelled_dt IS NULL"),
                 sqlite_where=sa.text("confirmed_dt IS NULL AND cancelled_dt IS NULL")),
    )

    family_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    reason: Mapped[ErasureReason] = mapped_column(
        sa.Enum(ErasureReason, native_enum=False, create_constraint=True, length=20, name="erasure_reason",
                validate_strings=True))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    requested_by_id: Mapped[uuid.UUID] = mapped_column()
    requested_dt: Mapped[datetime] = mapped_column()
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column()
    confirmed_dt: Mapped[datetime | None] = mapped_column()
    cancelled_by_id: Mapped[uuid.UUID | None] = mapped_column()
    cancelled_dt: Mapped[datetime | None] = mapped_column()

    @property
    def is_open(self) -> bool:
        return self.confirmed_dt is None and self.cancelled_dt is None

    def __repr__(self) -> str:
        return f"<ErasureRequest {self.id}>"


class ErasureTombstone(IdMixin, TenantScoped, db.Model):
    """What is left of an erased family: ids and dates, no personal value.

    Also appended to the tombstone file outside the database, so that erasures can be
    re-applied to a restored older backup (``flask privacy reapply-erasures``).
    """

    __tablename__ = "erasure_tombstones"

    family_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    case_number: Mapped[str] = mapped_column(sa.String(24))
    erased_dt: Mapped[datetime] = mapped_column()
    #: "request" (four eyes) or "retention" (deadline passed)
    cause: Mapped[str] = mapped_column(sa.String(20))
    requested_by: Mapped[uuid.UUID | None] = mapped_column()
    approved_by: Mapped[uuid.UUID | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<ErasureTombstone {self.case_number}>"
