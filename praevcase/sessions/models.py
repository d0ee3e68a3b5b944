"""The prevention team, its review sessions ("Schnittstellengespräche"), agendas, attendance and calendar feeds.

- :class:`TeamSeat`: a member agency of the prevention team and its Präventionskraft;
- :class:`ReviewSession`: one session (date, place, agenda cutoff, state, invitation UID/SEQUENCE);
- :class:`SessionAttendee`: one member agency per session, with its presence;
- :class:`AgendaItem`: one case on one agenda, the peer-consultation notes (sealed under the
  family key, DataCategory.case_notes) and the team's decision;
- :class:`CalendarFeed`: a user's secret calendar URL (token stored as SHA-256, revocable).
"""
from __future__ import annotations

import enum
import uuid
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consent.scopes import DataCategory
from praevcase.accounts.models import User
from praevcase.cases.models import Case
from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.i18n import N_
from praevcase.privacy import vault
from praevcase.privacy.erasure import register_erasable_table
from praevcase.statemachine import StatefulMixin
from praevcase.statemachine import state_column
from praevcase.tenancy import TenantScoped
from praevcase.tenants.models import Agency
from praevcase.tenants.models import agency_fk
from workflows.case import CaseState
from workflows.case import ClosingReason
from workflows.review_session import ReviewSessionState


def _enum(enum_cls: type, name: str, length: int = 20) -> sa.Enum:
    return sa.Enum(enum_cls, native_enum=False, create_constraint=True, length=length, name=name,
                   validate_strings=True)


class TeamSeat(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A member agency of the tenant's prevention team and the Präventionskraft it sends."""

    __tablename__ = "team_seats"
    __table_args__ = (
        agency_fk(name="fk_team_seats_agency", columns=("tenant_id", "agency_id")),
        sa.UniqueConstraint("tenant_id", "agency_id", name="uq_team_seats_tenant_agency"),
    )

    agency_id: Mapped[uuid.UUID] = mapped_column()
    #: The agency's Präventionskraft (None while the agency has not named one)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"), index=True)

    agency: Mapped[Agency] = relationship(Agency, lazy="joined", viewonly=True,
                                          primaryjoin="foreign(TeamSeat.agency_id) == Agency.id")
    user: Mapped[User | None] = relationship(User, lazy="joined", viewonly=True)


class ReviewSession(IdMixin, CreatedMixin, TenantScoped, StatefulMixin, db.Model):
    """One Schnittstellengespräch of the prevention team."""

    __tablename__ = "review_sessions"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "starts_dt", name="uq_review_sessions_tenant_starts"),
        sa.UniqueConstraint("tenant_id", "cadence_day", name="uq_review_sessions_tenant_cadence_day"),
        sa.UniqueConstraint("ical_uid", name="uq_review_sessions_ical_uid"),
        sa.CheckConstraint("ends_dt > starts_dt", name="ends_after_start"),
        sa.CheckConstraint("agenda_cutoff_dt <= starts_dt", name="cutoff_before_start"),
        sa.CheckConstraint("(state IN ('held', 'minutes_final')) = (held_dt IS NOT NULL)", name="held_dt_iff_held"),
        sa.CheckConstraint("(state = 'minutes_final') = (minutes_final_dt IS NOT NULL)",
                           name="minutes_final_dt_iff_final"),
        sa.CheckConstraint("(state = 'cancelled') = (cancelled_dt IS NOT NULL)", name="cancelled_dt_iff_cancelled"),
    )

    #: Start and end (UTC; shown and invited in Europe/Berlin)
    starts_dt: Mapped[datetime] = mapped_column(index=True)
    ends_dt: Mapped[datetime] = mapped_column()
    place: Mapped[str] = mapped_column(sa.String(200))
    #: Cases ready for review by then are put on this agenda (reminder to the coordinator)
    agenda_cutoff_dt: Mapped[datetime] = mapped_column()
    state: Mapped[ReviewSessionState] = state_column(ReviewSessionState, "review_session_state",
                                                     ReviewSessionState.planned)
    #: The day of the tenant's cadence this session was generated for (None: an extra session);
    #: kept when the session is moved, so generating again does not add the day a second time
    cadence_day: Mapped[date | None] = mapped_column()
    agenda_built_dt: Mapped[datetime | None] = mapped_column()
    frozen_dt: Mapped[datetime | None] = mapped_column()
    #: The coordinator who froze the agenda: ORGANIZER of the invitation
    organizer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    #: When the session took place (set by ``hold``); reports count cases per held session
    held_dt: Mapped[datetime | None] = mapped_column()
    minutes_final_dt: Mapped[datetime | None] = mapped_column()
    minutes_final_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_dt: Mapped[datetime | None] = mapped_column()
    #: iCalendar UID: stable for the life of the session, whatever changes
    ical_uid: Mapped[str] = mapped_column(sa.String(120))
    #: iCalendar SEQUENCE: bumped on every change attendees must see (time, place, agenda, cancellation)
    ical_sequence: Mapped[int] = mapped_column(default=0)

    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="session", lazy="select", order_by="AgendaItem.position", viewonly=True)

    def __repr__(self) -> str:
        return f"<ReviewSession {self.id} {self.state.value if self.state else None}>"

    # --- guard predicates of workflows.review_session -----------------------------------------

    def all_items_decided(self, event: Any) -> bool:
        """Every agenda item has a decision, or its case left the agenda by another way."""
        return all(item.is_settled for item in self.items)


class Presence(str, enum.Enum):
    invited = "invited"
    present = "present"
    excused = "excused"
    absent = "absent"


PRESENCE_LABELS = {Presence.invited: N_("Eingeladen"), Presence.present: N_("Anwesend"),
                   Presence.excused: N_("Entschuldigt"), Presence.absent: N_("Nicht anwesend")}


class SessionAttendee(IdMixin, TenantScoped, db.Model):
    """A member agency invited to a session, the person it sends, and whether it was there."""

    __tablename__ = "session_attendees"
    __table_args__ = (
        agency_fk(name="fk_session_attendees_agency", columns=("tenant_id", "agency_id")),
        sa.UniqueConstraint("session_id", "agency_id", name="uq_session_attendees_session_agency"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("review_sessions.id", ondelete="CASCADE"),
                                                  index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column()
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    presence: Mapped[Presence] = mapped_column(_enum(Presence, "presence"), default=Presence.invited)

    agency: Mapped[Agency] = relationship(Agency, lazy="joined", viewonly=True,
                                          primaryjoin="foreign(SessionAttendee.agency_id) == Agency.id")
    user: Mapped[User | None] = relationship(User, lazy="joined", viewonly=True)


class Decision(str, enum.Enum):
    """What the team decided about a case in the session."""

    assign_lotse = "assign_lotse"
    defer = "defer"
    rereview = "rereview"
    close = "close"
    escalate = "escalate"


DECISION_LABELS = {
    Decision.assign_lotse: N_("Lotsin/Lotse zugewiesen"),
    Decision.defer: N_("Vertagt auf das nächste Gespräch"),
    Decision.rereview: N_("Wiedervorlage"),
    Decision.close: N_("Abgeschlossen"),
    Decision.escalate: N_("Übergabe an das Jugendamt vorgeschlagen (§ 8a SGB VIII)"),
}


class AgendaItem(IdMixin, TenantScoped, db.Model):
    """One case on the agenda of one session: notes of the peer consultation and the decision."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "case_id", name="uq_agenda_items_session_case"),
        sa.CheckConstraint("(decision IS NULL) = (decided_dt IS NULL)", name="decided_dt_iff_decision"),
        sa.CheckConstraint("decision IS NULL OR decided_by_id IS NOT NULL", name="decided_by_set"),
        sa.CheckConstraint("decision <> 'assign_lotse' OR lotse_user_id IS NOT NULL", name="lotse_when_assigned"),
        sa.CheckConstraint("decision <> 'rereview' OR rereview_date IS NOT NULL", name="date_when_rereview"),
        sa.CheckConstraint("decision <> 'close' OR closing_reason IS NOT NULL", name="reason_when_closed"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("review_sessions.id", ondelete="CASCADE"),
                                                  index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column()
    added_dt: Mapped[datetime] = mapped_column()
    #: Notes of the peer consultation ("kollegiale Beratung"), sealed: DataCategory.case_notes
    notes_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    notes_dt: Mapped[datetime | None] = mapped_column()
    decision: Mapped[Decision | None] = mapped_column(_enum(Decision, "agenda_decision"))
    lotse_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The team looks at the case again from this date (a re-review or the Lotse's review date)
    rereview_date: Mapped[date | None] = mapped_column(index=True)
    closing_reason: Mapped[ClosingReason | None] = mapped_column(_enum(ClosingReason, "agenda_closing_reason", 32))
    decided_dt: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))

    session: Mapped[ReviewSession] = relationship(back_populates="items", viewonly=True)
    case: Mapped[Case] = relationship(Case, lazy="joined", viewonly=True)

    @property
    def is_settled(self) -> bool:
        """Decided, or the case is no longer on the agenda (closed, escalated or withdrawn meanwhile)."""
        return self.decision is not None or self.case.state is not CaseState.on_agenda


vault.register_fields("agenda_items", {"notes": DataCategory.case_notes})
# erasure of a family: the notes go, the rows stay for the counts (pseudonymous, no personal values)
register_erasable_table("agenda_items", through=("case_id", "cases"))


class CalendarFeed(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A user's subscribable calendar: the URL holds a random token, the row only its SHA-256."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: First characters of the token, to recognise it
    prefix: Mapped[str] = mapped_column(sa.String(12))
    revoked_dt: Mapped[datetime | None] = mapped_column()
    last_used_dt: Mapped[datetime | None] = mapped_column()
