"""Denominators of the reach rates, entered per programme and period (no personal data)."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from praevcase.cases.models import Case
from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.lotse.models import Contact
from praevcase.referrals.models import Referral
from praevcase.statemachine import TransitionHistory
from praevcase.tenancy import TenantScoped

#: Kinds of external reference numbers (Bezugsgrößen) and their German labels
DENOMINATOR_KINDS = {
    "births": "Geburten",
    "first_time_parents": "Erstgebärende / Erst-Eltern",
    "kita_entrants": "Neue Kita-Kinder",
    "school_entrants": "Schulanfängerinnen und Schulanfänger",
    "other": "Sonstige Bezugsgröße",
}
#: 0 = the whole calendar year, 1 and 2 = half-years
HALF_LABELS = {0: "ganzes Jahr", 1: "1. Halbjahr", 2: "2. Halbjahr"}


class ReachDenominator(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """How many families a programme could reach in a period (births, new Kita children, …).

    The reach rate of a programme is the number of its intakes in the period divided by this
    number, for the whole municipality (``sozialraum`` = "") or one Sozialraum.
    """

    __tablename__ = "reach_denominators"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "programme", "kind", "year", "half", "sozialraum",
                            name="uq_reach_denominators_period"),
        sa.CheckConstraint("value > 0", name="value_positive"),
        sa.CheckConstraint("half IN (0, 1, 2)", name="half_valid"),
    )

    #: Intake programme: a praevcase.cases.catalogue.IntakeChannel code
    programme: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(30))
    year: Mapped[int] = mapped_column()
    half: Mapped[int] = mapped_column(default=0)
    #: "" = the whole municipality
    sozialraum: Mapped[str] = mapped_column(sa.String(100), default="")
    value: Mapped[int] = mapped_column()
    #: Where the number comes from, e.g. "IT.NRW Geburtenstatistik 2025"
    source_note: Mapped[str | None] = mapped_column(sa.String(200))
    updated_by_id: Mapped[uuid.UUID] = mapped_column()
    updated_dt: Mapped[datetime] = mapped_column()

    def __repr__(self) -> str:
        return f"<ReachDenominator {self.programme} {self.year}/{self.half}>"


# Indexes for the report queries on other features' tables (created by the reports migration;
# bench/dashboard_scale.py shows the plans with and without them at 1 M cases):
#: every case table filters one tenant's cases by the period of their intake
sa.Index("ix_reports_cases_tenant_created", Case.tenant_id, Case.created_dt)
#: consent and agenda events, and the first team decision / Lotse assignment of each case: one
#: tenant's transitions of some triggers since the period's start, answered from the index alone
sa.Index("ix_reports_history_tenant_trigger_occurred", TransitionHistory.tenant_id, TransitionHistory.workflow,
         TransitionHistory.trigger, TransitionHistory.occurred_dt,
         postgresql_include=["object_id", "from_state"])
#: referral tables: one tenant's referrals by the period they were proposed in
sa.Index("ix_reports_referrals_tenant_created", Referral.tenant_id, Referral.created_dt)
#: the Lotse's first contact per case since the period's start, from the index alone
sa.Index("ix_reports_contacts_tenant_date", Contact.tenant_id, Contact.contact_date, postgresql_include=["case_id"])
