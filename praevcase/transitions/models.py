"""Transition protocols Ü1 (Kita → Grundschule) and Ü2 (Grundschule → weiterführende Schule).

A protocol belongs to one child of one family. The family record is the writing institution's
own file (its ``holder_agency_id`` is the author), so the author reads the content on its own
legal basis and every other institution only through the parents' consent — or, for Ü2 where
the tenant says so, the school law. The content exists only as sealed, dated versions
(:class:`ProtocolVersion`, data category *education*); each handover is a row of its own with the
legal basis it relied on.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date
from datetime import datetime
from typing import Any
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consent.scopes import DataCategory
from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.privacy import vault
from praevcase.statemachine import StatefulMixin
from praevcase.statemachine import state_column
from praevcase.tenancy import TenantScoped
from praevcase.tenants.models import agency_fk
from workflows.u1_protocol import U1ProtocolState
from workflows.u2_protocol import U2ProtocolState


class ProtocolKind(str, enum.Enum):
    u1 = "u1"
    u2 = "u2"


#: States in which the receiving institution may open a protocol (it was handed over).
U1_DELIVERED = (U1ProtocolState.handed_over, U1ProtocolState.received, U1ProtocolState.follow_up_due,
                U1ProtocolState.followed_up)
U2_DELIVERED = (U2ProtocolState.handed_over, U2ProtocolState.received)
#: Ü1 states before the handover: the protocol is still the Kita's alone.
U1_BEFORE_HANDOVER = (U1ProtocolState.draft, U1ProtocolState.ready, U1ProtocolState.deferred)


def _partial(name: str, *columns: str, where: str) -> sa.Index:
    """A partial index (PostgreSQL and SQLite), so sweeps touch only the rows that can be due."""
    return sa.Index(name, *columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


class ProtocolMixin(IdMixin, CreatedMixin, TenantScoped, StatefulMixin):
    """Columns both protocols share."""

    family_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    #: The child (a Person of the family); one protocol of each kind per child
    child_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("persons.id", ondelete="CASCADE"), unique=True)
    #: The institution that writes the protocol (Kita for Ü1, Grundschule for Ü2)
    author_agency_id: Mapped[uuid.UUID] = mapped_column()
    #: The institution the next or last handover goes out from (the author, or for a
    #: forwarded Ü2 the school that received it before)
    sender_agency_id: Mapped[uuid.UUID] = mapped_column()
    #: The named receiving school; it sees the protocol only once it was handed over
    receiver_agency_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    #: Ü1: year of school entry; Ü2: year the child enters grade 5 (the August of that year)
    school_year: Mapped[int] = mapped_column()
    created_by_id: Mapped[uuid.UUID | None] = mapped_column()
    updated_dt: Mapped[datetime] = mapped_column()
    #: The latest dated version of the content (None until the first save)
    current_version_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The latest handover (None before the first)
    current_handover_id: Mapped[uuid.UUID | None] = mapped_column()

    kind: ClassVar[ProtocolKind]

    @property
    def workflow_name(self) -> str:
        return f"{self.kind.value}_protocol"

    # --- guards named in workflows/u1_protocol.py and u2_protocol.py (pure reads) -------------

    def handover_permitted(self, event: Any) -> bool:
        """The parents' consent (or for Ü2 the recorded school-law basis) covers the receiving school."""
        from praevcase.transitions.handover import handover_basis

        if event.event.name == "forward":
            target = event.kwargs.get("to")
            if target is None or target == self.receiver_agency_id:
                return False
        else:
            target = self.receiver_agency_id
        if target is None or self.current_version_id is None:
            return False
        return handover_basis(self, target, now=event.kwargs["now"]) is not None


class U1Protocol(ProtocolMixin, db.Model):
    """Ü1: development in the educational areas, support started, interests; written over the Kita years."""

    __tablename__ = "u1_protocols"
    __table_args__ = (
        agency_fk(name="fk_u1_protocols_author_agency", columns=("tenant_id", "author_agency_id")),
        agency_fk(name="fk_u1_protocols_sender_agency", columns=("tenant_id", "sender_agency_id")),
        agency_fk(name="fk_u1_protocols_receiver_agency", columns=("tenant_id", "receiver_agency_id")),
        # the sweeps' due-queries read only protocols that can be due
        _partial("ix_u1_protocols_before_handover", "tenant_id", "school_year",
                 where="state IN ('draft', 'ready', 'deferred')"),
        _partial("ix_u1_protocols_received", "tenant_id", "school_year", where="state = 'received'"),
        _partial("ix_u1_protocols_follow_up_due", "tenant_id", "school_year", where="state = 'follow_up_due'"),
        sa.CheckConstraint("(state = 'followed_up') = (follow_up_on IS NOT NULL)", name="follow_up_iff_followed_up"),
    )

    kind = ProtocolKind.u1
    state: Mapped[U1ProtocolState] = state_column(U1ProtocolState, "u1_protocol_state", U1ProtocolState.draft)
    #: Date of the talk with the parents about the protocol (needed before it is final)
    parent_talk_on: Mapped[date | None] = mapped_column()
    #: How often school entry was deferred (Zurückstellung); each moves school_year on by one
    deferrals: Mapped[int] = mapped_column(default=0)
    #: Date of the Kita's follow-up visit at the Grundschule after school start
    follow_up_on: Mapped[date | None] = mapped_column()
    #: Notes of the follow-up visit, sealed (education)
    follow_up_note_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    def discussed_with_parents(self, event: Any) -> bool:
        return self.parent_talk_on is not None and self.current_version_id is not None

    def __repr__(self) -> str:
        return f"<U1Protocol {self.id} {self.state.value}>"


class U2Protocol(ProtocolMixin, db.Model):
    """Ü2: work and social behaviour, German and mathematics, the reasoned recommendation; travels on."""

    __tablename__ = "u2_protocols"
    __table_args__ = (
        agency_fk(name="fk_u2_protocols_author_agency", columns=("tenant_id", "author_agency_id")),
        agency_fk(name="fk_u2_protocols_sender_agency", columns=("tenant_id", "sender_agency_id")),
        agency_fk(name="fk_u2_protocols_receiver_agency", columns=("tenant_id", "receiver_agency_id")),
        _partial("ix_u2_protocols_draft", "tenant_id", "school_year", where="state = 'draft'"),
    )

    kind = ProtocolKind.u2
    state: Mapped[U2ProtocolState] = state_column(U2ProtocolState, "u2_protocol_state", U2ProtocolState.draft)
    #: The current version holds a recommendation with its reasons (the value itself is sealed);
    #: also the guard of the same name in workflows/u2_protocol.py
    has_recommendation: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<U2Protocol {self.id} {self.state.value}>"


def _protocol_fks() -> tuple[Any, ...]:
    return (
        sa.CheckConstraint("(u1_protocol_id IS NULL) <> (u2_protocol_id IS NULL)", name="one_protocol"),
    )


class ProtocolVersion(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """One dated version of a protocol's content; content sealed under the family key (education)."""

    __tablename__ = "transition_protocol_versions"
    __table_args__ = (
        *_protocol_fks(),
        sa.UniqueConstraint("u1_protocol_id", "number", name="uq_transition_protocol_versions_u1_number"),
        sa.UniqueConstraint("u2_protocol_id", "number", name="uq_transition_protocol_versions_u2_number"),
    )

    u1_protocol_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("u1_protocols.id", ondelete="CASCADE"))
    u2_protocol_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("u2_protocols.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    #: 1, 2, 3 … per protocol
    number: Mapped[int] = mapped_column()
    created_by_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The template (areas, scale) the content was written against
    template_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("transition_templates.id"))
    #: JSON of the content, sealed
    content_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    def __repr__(self) -> str:
        return f"<ProtocolVersion {self.id} #{self.number}>"


class Handover(IdMixin, TenantScoped, db.Model):
    """One handover of a protocol to a school, with the legal basis it relied on."""

    __tablename__ = "transition_handovers"
    __table_args__ = (
        *_protocol_fks(),
        agency_fk(name="fk_transition_handovers_from_agency", columns=("tenant_id", "from_agency_id")),
        agency_fk(name="fk_transition_handovers_to_agency", columns=("tenant_id", "to_agency_id")),
        sa.CheckConstraint("legal_basis IN ('consent', 'school_law')", name="legal_basis_known"),
        sa.CheckConstraint("(legal_basis = 'consent') = (consent_id IS NOT NULL)", name="consent_iff_basis_consent"),
        sa.CheckConstraint("(received_dt IS NULL) = (received_by_id IS NULL)", name="received_by_iff_dt"),
        _partial("ix_transition_handovers_not_received", "tenant_id", "handed_over_dt", where="received_dt IS NULL"),
    )

    u1_protocol_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("u1_protocols.id", ondelete="CASCADE"), index=True)
    u2_protocol_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("u2_protocols.id", ondelete="CASCADE"), index=True)
    from_agency_id: Mapped[uuid.UUID] = mapped_column()
    to_agency_id: Mapped[uuid.UUID] = mapped_column()
    #: consent or school_law (consent.scopes.LegalBasis)
    legal_basis: Mapped[str] = mapped_column(sa.String(20))
    #: The consent record relied on (legal basis consent)
    consent_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The version handed over; the receiving school reads this one
    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("transition_protocol_versions.id"))
    handed_over_dt: Mapped[datetime] = mapped_column()
    handed_over_by_id: Mapped[uuid.UUID | None] = mapped_column()
    received_dt: Mapped[datetime | None] = mapped_column()
    received_by_id: Mapped[uuid.UUID | None] = mapped_column()

    @property
    def protocol_id(self) -> uuid.UUID:
        return self.u1_protocol_id or self.u2_protocol_id  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<Handover {self.id}>"


class ProtocolTemplate(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """Areas, scale (and for Ü2 the recommendation options) of a tenant's protocol form.

    Never edited: a change is a new version, so old protocol versions keep their labels.
    """

    __tablename__ = "transition_templates"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "kind", "version", name="uq_transition_templates_version"),)

    kind: Mapped[ProtocolKind] = mapped_column(
        sa.Enum(ProtocolKind, native_enum=False, create_constraint=True, length=4, name="protocol_kind",
                validate_strings=True))
    version: Mapped[int] = mapped_column()
    #: [{"key": …, "label": …}] — the areas (Ü1: the ten NRW Bildungsbereiche)
    areas: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    #: [{"key": …, "label": …}] — the scale each area is rated on
    scale: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    #: Ü2: [{"key": …, "label": …}] — the school forms a recommendation may name
    recommendations: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<ProtocolTemplate {self.kind.value} v{self.version}>"


vault.register_fields("transition_protocol_versions", {"content": DataCategory.education})
vault.register_fields("u1_protocols", {"follow_up_note": DataCategory.education})
