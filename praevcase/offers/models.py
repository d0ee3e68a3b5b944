"""The offers catalogue ("Angebote"): what families can be referred to, and by whom it is provided.

No personal data of families lives here; the contact is the provider's contact point.
"""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.offers.catalogue import OfferType
from praevcase.offers.catalogue import ProviderType
from praevcase.tenancy import TenantScoped
from praevcase.tenants.models import agency_fk


def _enum(enum_cls: type, name: str, length: int = 40) -> sa.Enum:
    return sa.Enum(enum_cls, native_enum=False, create_constraint=True, length=length, name=name,
                   validate_strings=True)


class Offer(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """One offer of the catalogue: a named offer of a provider, or a generic offer type."""

    __tablename__ = "offers"
    __table_args__ = (
        agency_fk(name="fk_offers_provider_agency", columns=("tenant_id", "provider_agency_id")),
        sa.UniqueConstraint("tenant_id", "key", name="uq_offers_tenant_key"),
        sa.CheckConstraint("provider_agency_id IS NOT NULL OR provider_name IS NOT NULL", name="has_provider"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
    )

    #: Stable key for data loaded from a list (demo data, imports); None for offers entered by hand
    key: Mapped[str | None] = mapped_column(sa.String(60))
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Kind of offer (catalogue.OfferType); reports group referrals by it
    offer_type: Mapped[OfferType] = mapped_column(_enum(OfferType, "offer_type"), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: The provider: an agency of the tenant …
    provider_agency_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    #: … or free text (a club, a provider outside the team)
    provider_name: Mapped[str | None] = mapped_column(sa.String(200))
    provider_type: Mapped[ProviderType | None] = mapped_column(_enum(ProviderType, "provider_type", 20))
    #: Age phase codes (praevcase.cases.catalogue.AgePhase)
    age_phases: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Field-of-action codes (catalogue.FieldOfAction)
    fields_of_action: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Sozialräume served; empty: the whole tenant
    sozialraeume: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Where the offer comes from when it is a practice example of another municipality
    municipality: Mapped[str | None] = mapped_column(sa.String(120))
    #: Access and setting, e.g. "in der Kita, kostenfrei"
    access: Mapped[str | None] = mapped_column(sa.String(300))
    languages: Mapped[str | None] = mapped_column(sa.String(200))
    #: Contact point of the provider (person, phone, e-mail of the provider — never of a family)
    contact: Mapped[str | None] = mapped_column(sa.String(300))
    #: Places available (None: no fixed limit or unknown)
    capacity: Mapped[int | None] = mapped_column()
    #: The provider keeps a waiting list
    waiting_list: Mapped[bool] = mapped_column(default=False)
    #: Präventionsstandards served (catalogue.Standard)
    standards: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Source line in the practice brief or other reference
    source: Mapped[str | None] = mapped_column(sa.String(80))
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_dt: Mapped[datetime | None] = mapped_column()
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.offer_type.value if self.offer_type else None}>"
