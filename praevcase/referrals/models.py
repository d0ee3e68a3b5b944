"""A referral ("Vermittlung") of one case's family to an offer, with the provider's feedback and the family's view.

A referral starts as a proposal — of the team in a Schnittstellengespräch (``agenda_item_id``) or
of the Lotse — naming an offer of the catalogue or only the kind of offer; the provider is named
at the latest when it is asked for a place (guard ``provider_named``). State/column invariants
are CHECK constraints too. ``state`` and ``offer_type`` are what the reports count.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consent.scopes import DataCategory
from praevcase.cases.models import Case
from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.offers.catalogue import OfferType
from praevcase.offers.models import Offer
from praevcase.privacy import vault
from praevcase.privacy.erasure import register_erasable_table
from praevcase.statemachine import StatefulMixin
from praevcase.statemachine import state_column
from praevcase.tenancy import TenantScoped
from praevcase.tenants.models import agency_fk
from workflows.referral import ReferralState

_AFTER_REQUEST = "('requested', 'waitlisted', 'started', 'completed', 'dropped')"
_ENDED = "('declined', 'completed', 'dropped', 'cancelled')"


class _Asked:
    """Sentinel for a guard input the action form will ask for (used when listing buttons)."""

    def __repr__(self) -> str:
        return "ASKED"


ASKED: Any = _Asked()


class Referral(IdMixin, CreatedMixin, TenantScoped, StatefulMixin, db.Model):
    """One referral of a family (through its case) to an offer."""

    __tablename__ = "referrals"
    __table_args__ = (
        agency_fk(name="fk_referrals_provider_agency", columns=("tenant_id", "provider_agency_id")),
        sa.CheckConstraint(f"state NOT IN {_AFTER_REQUEST} OR provider_agency_id IS NOT NULL"
                           " OR provider_name IS NOT NULL", name="provider_named_when_requested"),
        sa.CheckConstraint(f"state NOT IN {_AFTER_REQUEST} OR requested_dt IS NOT NULL", name="requested_dt_set"),
        sa.CheckConstraint("(state IN ('started', 'completed', 'dropped')) = (started_dt IS NOT NULL)",
                           name="started_dt_iff_started"),
        sa.CheckConstraint(f"(state IN {_ENDED}) = (ended_dt IS NOT NULL)", name="ended_dt_iff_ended"),
        # the reminder sweep reads only referrals waiting at a provider
        sa.Index("ix_referrals_requested_waiting", "requested_dt", postgresql_where=sa.text("state = 'requested'"),
                 sqlite_where=sa.text("state = 'requested'")),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    #: The concrete offer of the catalogue (None while only the kind of offer is proposed)
    offer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("offers.id"), index=True)
    #: Kind of offer (copied from the offer when one is named); reports group by it
    offer_type: Mapped[OfferType] = mapped_column(
        sa.Enum(OfferType, native_enum=False, create_constraint=True, length=40, name="referral_offer_type",
                validate_strings=True), index=True)
    provider_agency_id: Mapped[uuid.UUID | None] = mapped_column()
    provider_name: Mapped[str | None] = mapped_column(sa.String(200))
    #: Proposed in this item of a Schnittstellengespräch (None: proposed by the Lotse)
    agenda_item_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("agenda_items.id"), index=True)
    state: Mapped[ReferralState] = state_column(ReferralState, "referral_state", ReferralState.proposed)
    proposed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    offered_dt: Mapped[datetime | None] = mapped_column()
    #: When the family answered (accepted or declined)
    answered_dt: Mapped[datetime | None] = mapped_column()
    requested_dt: Mapped[datetime | None] = mapped_column()
    waitlisted_dt: Mapped[datetime | None] = mapped_column()
    started_dt: Mapped[datetime | None] = mapped_column()
    #: Declined, completed, dropped or cancelled
    ended_dt: Mapped[datetime | None] = mapped_column()
    #: The provider's feedback as the Lotse recorded it, DataCategory.case_notes
    provider_feedback_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: The family's own view of the offer, DataCategory.case_notes
    family_view_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    case: Mapped[Case] = relationship(Case, lazy="joined", viewonly=True)
    offer: Mapped[Offer | None] = relationship(Offer, lazy="joined", viewonly=True)

    def __repr__(self) -> str:
        return f"<Referral {self.id} {self.state.value if self.state else None}>"

    # --- guard predicates of workflows.referral -------------------------------------------------

    def provider_named(self, event: Any) -> bool:
        """A provider is on the referral, or the trigger names one."""
        given = event.kwargs.get("provider")
        return (given is ASKED or bool(given) or self.provider_agency_id is not None
                or bool(self.provider_name))


vault.register_fields("referrals", {"provider_feedback": DataCategory.case_notes,
                                    "family_view": DataCategory.case_notes})
# erasure of a family: feedback and the family's view go, the rows stay for the referral statistics
register_erasable_table("referrals", through=("case_id", "cases"))
