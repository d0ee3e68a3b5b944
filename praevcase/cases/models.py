"""The case ("Fall") and its intake answers.

State/column invariants of the case workflow are CHECK constraints as well, so no code path
(and no hand-written SQL) can store a closed case without a reason, an escalation without the
§ 8a legal basis and a second person, or a birth-clinic case in the team's hands before the
four-eyes confirmation.

``team_summary`` is stored in clear, on purpose: it is the non-identifying description the
prevention team reads in the Schnittstellengespräch, including members whose agency the
consent does not name ("kollegiale Beratung" on an anonymised case). Sealing it under the
family key would need a second decryption path around the consent policy, which the vault
forbids; instead the intake schema refuses a summary that contains a name of the family, the
form asks for it "ohne Namen", it is limited to 600 characters, and it is only shown once the
case reached the team (or to the agency that wrote it). Erasure must blank it (see README).
"""
from __future__ import annotations

import uuid
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.cases.catalogue import AgePhase
from praevcase.cases.catalogue import IntakeChannel
from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.privacy import vault
from praevcase.privacy.erasure import register_erasure_hook
from praevcase.privacy.models import Family
from praevcase.privacy.retention import months_before
from praevcase.privacy.retention import register_retention_hold
from praevcase.privacy.retention import register_retention_rule
from praevcase.statemachine import StatefulMixin
from praevcase.statemachine import state_column
from praevcase.tenancy import TenantScoped
from praevcase.tenants.models import agency_fk
from workflows.case import CaseState
from workflows.case import ClosingReason

#: The legal basis stored with an escalation (consent.scopes.LegalBasis.child_welfare_8a).
LEGAL_BASIS_8A = "child_welfare_8a"


class _Asked:
    """Sentinel for a guard input the action form will ask for (used when listing buttons)."""

    def __repr__(self) -> str:
        return "ASKED"


ASKED: Any = _Asked()

_TEAM_STATES = "('ready_for_review', 'on_agenda', 'in_support')"


def _enum(enum_cls: type, name: str, length: int = 32) -> sa.Enum:
    return sa.Enum(enum_cls, native_enum=False, create_constraint=True, length=length, name=name,
                   validate_strings=True)


#: The team's decisions about a case in a Schnittstellengespräch (triggers that take it off on_agenda)
REVIEW_DECISIONS = ("assign_lotse", "defer", "close", "withdraw_consent", "escalate")


class Case(IdMixin, CreatedMixin, TenantScoped, StatefulMixin, db.Model):
    """One case of one family, from the intake to closure or escalation."""

    __tablename__ = "cases"
    __table_args__ = (
        # the team's queues (cases of one state, oldest first) without reading the tenant's other cases
        sa.Index("ix_cases_tenant_state_team", "tenant_id", "state", "reached_team_dt"),
        agency_fk(name="fk_cases_origin_agency", columns=("tenant_id", "origin_agency_id")),
        agency_fk(name="fk_cases_escalated_to_agency", columns=("tenant_id", "escalated_to_agency_id")),
        sa.CheckConstraint("(state = 'closed') = (closing_reason IS NOT NULL AND closed_dt IS NOT NULL)",
                           name="closed_iff_reason"),
        sa.CheckConstraint("state <> 'in_support' OR lotse_user_id IS NOT NULL", name="in_support_has_lotse"),
        sa.CheckConstraint(f"state NOT IN {_TEAM_STATES} OR reached_team_dt IS NOT NULL",
                           name="team_states_after_consent"),
        sa.CheckConstraint("(intake_confirmed_by_id IS NULL) = (intake_confirmed_dt IS NULL)",
                           name="confirmation_complete"),
        sa.CheckConstraint("intake_confirmed_by_id IS NULL OR intake_confirmed_by_id <> opened_by_id",
                           name="confirmed_by_second_person"),
        sa.CheckConstraint("NOT four_eyes_required OR reached_team_dt IS NULL OR intake_confirmed_dt IS NOT NULL",
                           name="four_eyes_before_team"),
        sa.CheckConstraint("channel <> 'birth_clinic_screening' OR four_eyes_required",
                           name="birth_clinic_needs_four_eyes"),
        # the justification may be gone (erasure); it never exists without a proposal
        sa.CheckConstraint(
            "(escalation_proposed_by_id IS NULL) = (escalation_proposed_dt IS NULL)"
            " AND (escalation_proposed_by_id IS NULL) = (escalated_to_agency_id IS NULL)"
            " AND (escalation_justification_ct IS NULL OR escalation_proposed_by_id IS NOT NULL)",
            name="escalation_proposal_complete"),
        sa.CheckConstraint(
            "(state = 'escalated') = (escalated_dt IS NOT NULL AND escalated_by_id IS NOT NULL"
            f" AND escalation_legal_basis = '{LEGAL_BASIS_8A}' AND escalation_proposed_by_id IS NOT NULL)",
            name="escalated_iff_recorded"),
        sa.CheckConstraint("escalated_by_id IS NULL OR escalated_by_id <> escalation_proposed_by_id",
                           name="escalation_four_eyes"),
    )

    family_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("families.id"), index=True)
    channel: Mapped[IntakeChannel] = mapped_column(_enum(IntakeChannel, "intake_channel"))
    #: The agency that opened the case (holds the family's data on its own legal basis)
    origin_agency_id: Mapped[uuid.UUID] = mapped_column(index=True)
    opened_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    state: Mapped[CaseState] = state_column(CaseState, "case_state", CaseState.draft)
    age_phase: Mapped[AgePhase | None] = mapped_column(_enum(AgePhase, "age_phase"))
    #: Need codes (catalogue.Need), no free text
    needs: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Non-identifying summary for the team, in clear on purpose (see the module docstring)
    team_summary: Mapped[str] = mapped_column(sa.Text)
    four_eyes_required: Mapped[bool] = mapped_column(default=False)
    intake_confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    intake_confirmed_dt: Mapped[datetime | None] = mapped_column()
    #: When consent was confirmed and the case went to the team (None: it never left the agency)
    reached_team_dt: Mapped[datetime | None] = mapped_column()
    #: The team member accompanying the family (assignment, not a role; issue 5 adds the decision)
    lotse_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    lotse_assigned_dt: Mapped[datetime | None] = mapped_column()
    #: Milestones for the reports, each set once (the history has the same facts; these spare the
    #: dashboard a join over it): the team's first decision in a case review (the case left
    #: on_agenda), the first Lotse assignment, the date of the Lotse's first contact
    reviewed_dt: Mapped[datetime | None] = mapped_column()
    first_lotse_dt: Mapped[datetime | None] = mapped_column()
    first_contact_on: Mapped[date | None] = mapped_column()
    closing_reason: Mapped[ClosingReason | None] = mapped_column(_enum(ClosingReason, "closing_reason"))
    closed_dt: Mapped[datetime | None] = mapped_column()
    #: Four-eyes escalation: one coordinator/Lotse proposes with a written justification …
    escalation_proposed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    escalation_proposed_dt: Mapped[datetime | None] = mapped_column()
    escalation_justification_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: … naming the Jugendamt, whose users then read the family's data under § 8a SGB VIII …
    escalated_to_agency_id: Mapped[uuid.UUID | None] = mapped_column()
    #: … and a second person fires ``escalate``
    escalated_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    escalated_dt: Mapped[datetime | None] = mapped_column()
    escalation_legal_basis: Mapped[str | None] = mapped_column(sa.String(32))
    #: Families the blind index matched at intake (pseudonymous ids; shown only where allowed)
    possible_duplicate_family_ids: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.state.value if self.state else None}>"

    # --- guard predicates of workflows.case (pure: read the row and event.kwargs only) ---------

    def has_team_consent(self, event: Any) -> bool:
        """An active consent of the family names the prevention team's purpose (now)."""
        return active_team_consent(self.family_id, event.kwargs["now"]) is not None

    def intake_confirmed(self, event: Any) -> bool:
        """The four-eyes confirmation is done where the channel needs it."""
        return not self.four_eyes_required or self.intake_confirmed_dt is not None

    def has_lotse(self, event: Any) -> bool:
        """The transition names a (new) Lotse."""
        lotse = event.kwargs.get("lotse")
        return lotse is ASKED or (lotse is not None and lotse.id != self.lotse_user_id)

    def has_closing_reason(self, event: Any) -> bool:
        reason = event.kwargs.get("closing_reason")
        return reason is ASKED or isinstance(reason, ClosingReason)

    def has_escalation_justification(self, event: Any) -> bool:
        """A written justification was proposed (by someone; the permission checks who)."""
        return self.escalation_justification_ct is not None and self.escalation_proposed_by_id is not None


def active_team_consent(family_id: uuid.UUID, now: datetime) -> Any:
    """The first consent grant of the family active at *now* that names Purpose.team_review."""
    for grant in vault.grants_for([family_id])[family_id]:
        if Purpose.team_review in grant.purposes and grant.state_at(now).value == "active":
            return grant
    return None


class CaseIntake(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """The channel's structured answers and the free observation, sealed (one row per case).

    A table of its own so that list pages never load ciphertext.
    """

    __tablename__ = "case_intakes"
    __table_args__ = (
        sa.CheckConstraint("health_answers_ct IS NULL OR situation_answers_ct IS NULL", name="one_answer_column"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    #: Name and version of the schema the answers follow, e.g. "kita_entry_exam/1"
    schema: Mapped[str] = mapped_column(sa.String(60))
    #: Answers of health channels (birth clinic, Kita exam, …): JSON, DataCategory.health
    health_answers_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: Answers of the other channels (observations): JSON, DataCategory.family_situation
    situation_answers_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: The professional's free-text observation, DataCategory.family_situation
    observation_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)


vault.register_fields("case_intakes", {
    "health_answers": DataCategory.health,
    "situation_answers": DataCategory.family_situation,
    "observation": DataCategory.family_situation,
})
vault.register_fields("cases", {"escalation_justification": DataCategory.case_notes})


@register_erasure_hook(covers=("case_intakes",))
def _erase_case_content(family: Family, now: datetime) -> int:
    """Erasure of a family: intake answers go, the clear-text team summary is blanked.

    The sealed escalation justification is nulled by the erasure's safety net (``cases`` has a
    ``family_id``); the pseudonymous case rows stay for the statistics.
    """
    cases = Case.__table__
    of_family = sa.select(cases.c.id).where(cases.c.family_id == family.id)
    done = db.session.execute(sa.delete(CaseIntake.__table__).where(CaseIntake.__table__.c.case_id.in_(of_family)))
    blanked = db.session.execute(sa.update(cases).where(cases.c.family_id == family.id)
                                 .values(team_summary="", possible_duplicate_family_ids=[]))
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Case | CaseIntake):
            db.session.expire(obj)
    return done.rowcount + blanked.rowcount


_ENDED_STATES = ("closed", "escalated")


def _case_ended_long_ago(tenant_id: uuid.UUID, retention: dict[str, Any], now: datetime) -> sa.Select:
    """Retention rule: every case of the family ended (closed or handed over under § 8a)
    more than closed_case_months ago."""
    cutoff = months_before(now, retention["closed_case_months"])
    ended_at = sa.func.coalesce(Case.closed_dt, Case.escalated_dt)
    recent_or_open = (sa.select(Case.id).where(Case.family_id == Family.id)
                      .where(sa.or_(Case.state.not_in(_ENDED_STATES), ended_at > cutoff)).correlate(Family))
    any_case = sa.select(Case.id).where(Case.family_id == Family.id).correlate(Family)
    return sa.select(Family.id).where(Family.tenant_id == tenant_id, sa.exists(any_case),
                                      ~sa.exists(recent_or_open))


def _case_still_open(tenant_id: uuid.UUID, retention: dict[str, Any], now: datetime) -> sa.Select:
    """Retention hold: a family with an open case is never erased by a deadline."""
    return (sa.select(Case.family_id).where(Case.tenant_id == tenant_id, Case.state.not_in(_ENDED_STATES))
            .distinct())


register_retention_rule("case_ended", _case_ended_long_ago)
register_retention_hold("case_open", _case_still_open)
