"""Tenant (Kommune/Kreis) and Agency (Stelle/Institution)."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.tenancy import TenantScoped


class AgencyKind(str, enum.Enum):
    """Kinds of agency taking part in a prevention chain (DESIGN.md §3)."""

    jobcenter = "jobcenter"
    gesundheitsamt = "gesundheitsamt"
    jugendamt = "jugendamt"
    kita = "kita"
    grundschule = "grundschule"
    weiterfuehrende_schule = "weiterfuehrende_schule"
    geburtsklinik = "geburtsklinik"
    familienbuero = "familienbuero"
    freier_traeger = "freier_traeger"
    bildungsbuero = "bildungsbuero"
    schulamt = "schulamt"
    praeventionsbuero = "praeventionsbuero"
    other = "other"


class Tenant(IdMixin, CreatedMixin, db.Model):
    """One municipality or Kreis; the unit of isolation."""

    __tablename__ = "tenants"

    #: Short unique name used in URLs of the CLI and in case numbers
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Prefix of pseudonymous case numbers, e.g. "DN" → DN-2026-00042
    case_prefix: Mapped[str] = mapped_column(sa.String(8))
    #: Demo tenants show a permanent banner and may skip the second factor
    is_demo: Mapped[bool] = mapped_column(default=False)
    #: Validated by praevcase.tenants.settings.TenantSettingsSchema
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The tenant's own data key (wrapped by the keyring's KEK) for tenant-level secrets
    wrapped_key: Mapped[bytes] = mapped_column(sa.LargeBinary)

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class Agency(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """An agency (Stelle) of a tenant: Jobcenter, Kita, school, clinic, …"""

    __tablename__ = "agencies"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "name", name="uq_agencies_tenant_name"),
        # target of composite foreign keys, so no row can point at another tenant's agency
        sa.UniqueConstraint("tenant_id", "id", name="uq_agencies_tenant_id_id"),
    )

    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[AgencyKind] = mapped_column(
        sa.Enum(AgencyKind, native_enum=False, create_constraint=True, length=32,
                name="agency_kind", validate_strings=True)
    )
    #: Sozialraum (district) from the tenant's list
    sozialraum: Mapped[str | None] = mapped_column(sa.String(100))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Set when the agency is deactivated (kept for history, never deleted)
    deactivated_dt: Mapped[datetime | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<Agency {self.id} {self.kind.value}>"


def agency_fk(columns: tuple[str, str] = ("tenant_id", "agency_id"), **kwargs: Any) -> sa.ForeignKeyConstraint:
    """A composite (tenant_id, agency_id) foreign key: the referenced agency is of the same tenant."""
    return sa.ForeignKeyConstraint(list(columns), ["agencies.tenant_id", "agencies.id"], **kwargs)


__all__ = ["Agency", "AgencyKind", "Tenant", "agency_fk", "uuid"]
