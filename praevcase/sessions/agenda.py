"""Use cases of the agenda: build it from the cases ready for review, notes, proposals and decisions.

Cases reach the agenda only through the case workflow's ``put_on_agenda`` (fired with
praevcase.statemachine.transition, which checks the team consent again); a decision fires the
case's next trigger (assign_lotse, defer, close) at once, so the Lotse can start the same day.
Operations flush and never commit.
"""
from __future__ import annotations

import uuid
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.audit.operations import record
from praevcase.cases import operations as case_ops
from praevcase.cases.models import Case
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.extensions import db
from praevcase.offers.models import Offer
from praevcase.privacy.models import Family
from praevcase.privacy.vault import check_access
from praevcase.privacy.vault import grants_for
from praevcase.privacy.vault import reveal
from praevcase.privacy.vault import seal
from praevcase.referrals import operations as referral_ops
from praevcase.referrals.models import Referral
from praevcase.sessions import schedule
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.models import Decision
from praevcase.sessions.models import Presence
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.sessions.operations import MEETING_STATES
from praevcase.sessions.operations import require_chair
from praevcase.statemachine import transition
from workflows import WORKFLOWS
from workflows.case import CaseState
from workflows.case import ClosingReason
from workflows.review_session import ReviewSessionState

CASE = WORKFLOWS["case"]


def session_day(session: ReviewSession) -> date:
    return schedule.local(session.starts_dt).date()


def candidates_query(session: ReviewSession) -> sa.Select:
    """Cases ready for review, not on this agenda, and not waiting for a later re-review date."""
    on_this = sa.select(AgendaItem.id).where(AgendaItem.session_id == session.id, AgendaItem.case_id == Case.id)
    later = aliased(AgendaItem)
    waiting = sa.select(AgendaItem.id).where(
        AgendaItem.case_id == Case.id, AgendaItem.decision == Decision.rereview,
        AgendaItem.rereview_date > session_day(session),
        ~sa.select(later.id).where(later.case_id == AgendaItem.case_id, later.added_dt > AgendaItem.added_dt)
        .exists())
    return (sa.select(Case).where(Case.state == CaseState.ready_for_review, Case.reached_team_dt.is_not(None),
                                  ~on_this.exists(), ~waiting.exists())
            .order_by(Case.reached_team_dt, Case.id))


def build_agenda(session: ReviewSession, *, actor: Any, now: datetime) -> int:
    """Put every case ready for review on the agenda of a planned session; returns how many were added.

    The cases are locked in one statement and their consents read in one query (the
    ``has_team_consent`` guard then runs from the cache); a case whose team consent has lapsed
    stays where it is. Idempotent: running it again adds only cases that became ready since.
    """
    require_chair(actor, session)
    if session.state is not ReviewSessionState.planned:
        raise Conflict("Die Tagesordnung ist festgelegt. Zum Ändern bitte erst wieder öffnen.")
    cases = list(db.session.scalars(candidates_query(session).with_for_update(of=Case)
                                    .execution_options(populate_existing=True)))
    grants_for([c.family_id for c in cases])  # one query for every guard below
    position = db.session.scalar(sa.select(sa.func.max(AgendaItem.position))
                                 .where(AgendaItem.session_id == session.id)) or 0
    added = skipped = 0
    for case in cases:
        if not case.has_team_consent(_Event(now=now)):
            skipped += 1
            continue
        transition(CASE, case, "put_on_agenda", actor=actor, now=now, family_ref=case.family_id,
                   details={"session_id": str(session.id)})
        position += 1
        db.session.add(AgendaItem(id=new_id(), tenant_id=session.tenant_id, session_id=session.id, case_id=case.id,
                                  position=position, added_dt=now))
        added += 1
    session.agenda_built_dt = now
    record(db.session, "review_session.agenda_build", now=now, actor=actor, object_type="review_session",
           object_id=session.id, details={"added": added, "skipped_without_consent": skipped})
    db.session.flush()
    db.session.expire(session, ["items"])
    return added


class _Event:
    """The bit of transitions' EventData a guard reads, to ask a guard outside a trigger."""

    def __init__(self, **kwargs: Any):
        self.kwargs = kwargs


def remove_item(session: ReviewSession, item: AgendaItem, *, actor: Any, now: datetime,
                reason: str | None = None) -> None:
    """Take a case off a planned agenda: it goes back to "ready for review" (trigger ``defer``)."""
    require_chair(actor, session)
    if session.state is not ReviewSessionState.planned:
        raise Conflict("Die Tagesordnung ist festgelegt. Zum Ändern bitte erst wieder öffnen.")
    case = case_ops.lock_case(item.case_id, actor)
    if case.state is CaseState.on_agenda:
        case_ops.fire_case(case, "defer", actor=actor, now=now, reason=reason or "Von der Tagesordnung genommen")
    record(db.session, "review_session.agenda_remove", now=now, actor=actor, object_type="review_session",
           object_id=session.id, family_ref=case.family_id, details={"case_id": str(case.id)})
    db.session.delete(item)
    db.session.flush()
    db.session.expire(session, ["items"])


def _in_meeting(session: ReviewSession) -> None:
    if session.state not in MEETING_STATES:
        raise Conflict("Das ist nur während des Gesprächs und bis zum Abschluss des Protokolls möglich.")


def save_notes(session: ReviewSession, item: AgendaItem, notes: str, *, actor: Any, now: datetime,
               mode: str = "replace") -> AgendaItem:
    """Notes of the peer consultation, sealed under the family key (DataCategory.case_notes).

    ``append`` adds to notes that are not shown in the room (reading them back is a reveal by the
    chair); ``replace`` is refused when the chair's agency may not read what it would overwrite.
    """
    require_chair(actor, session)
    _in_meeting(session)
    family = db.session.get(Family, item.case.family_id)
    text = notes.strip()
    if item.notes_ct is not None:
        readable = check_access(family, [DataCategory.case_notes], actor=actor, purpose=Purpose.team_review,
                                now=now)[0].allowed
        if not readable:
            raise Conflict("Die Einwilligung deckt Ihre Stelle nicht ab: bestehende Notizen können Sie weder lesen "
                           "noch ersetzen.")
        if mode == "append" and text:
            old = reveal(family, item, ["notes"], actor=actor, purpose=Purpose.team_review, now=now)["notes"]
            text = f"{old}\n\n{text}" if old else text
        elif mode == "append":
            return item
    seal(family, item, "notes", text or None)
    item.notes_dt = now
    record(db.session, "agenda_item.notes", now=now, actor=actor, object_type="agenda_item", object_id=item.id,
           family_ref=family.id, details={"fields": ["notes"]})
    db.session.flush()
    return item


def propose_offer(session: ReviewSession, item: AgendaItem, data: dict[str, Any], *, actor: Any,
                  now: datetime) -> Referral:
    """The team proposes an offer (or a kind of offer) for the case: a referral in ``proposed``."""
    require_chair(actor, session)
    _in_meeting(session)
    offer: Offer | None = referral_ops.active_offer(data["offer_id"]) if data.get("offer_id") else None
    return referral_ops.propose(item.case, offer=offer, offer_type=data.get("offer_type"), agenda_item_id=item.id,
                                actor=actor, now=now)


def lotse_options(session: ReviewSession) -> list[User]:
    """The Lotse is chosen from the members present: their Präventionskräfte with the team role."""
    rows = db.session.scalars(sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id,
                                                              SessionAttendee.presence == Presence.present))
    return [a.user for a in rows if a.user is not None and a.user.is_active and Role.team_member in a.user.roles]


def decide(session: ReviewSession, item: AgendaItem, data: dict[str, Any], *, actor: Any,
           now: datetime) -> AgendaItem:
    """Record the team's decision and fire the case's trigger that goes with it."""
    require_chair(actor, session)
    _in_meeting(session)
    if item.decision is not None:
        raise Conflict("Zu diesem Fall ist bereits eine Entscheidung festgehalten.")
    case = case_ops.lock_case(item.case_id, actor)
    if case.state is not CaseState.on_agenda:
        raise Conflict("Der Fall steht nicht mehr auf der Tagesordnung.")
    decision: Decision = data["decision"]
    reason = data.get("reason")
    rereview: date | None = data.get("rereview_date")
    if rereview is not None and rereview <= session_day(session):
        raise InvalidInput(errors={"rereview_date": ["Bitte ein Datum nach dem Gespräch wählen."]})
    if decision is Decision.assign_lotse:
        lotse = _present_member(session, data.get("lotse_user_id"))
        case_ops.fire_case(case, "assign_lotse", actor=actor, now=now, lotse=lotse, reason=reason)
        item.lotse_user_id = lotse.id
    elif decision in (Decision.defer, Decision.rereview):
        if decision is Decision.rereview and rereview is None:
            raise InvalidInput(errors={"rereview_date": ["Bitte das Datum der Wiedervorlage angeben."]})
        case_ops.fire_case(case, "defer", actor=actor, now=now, reason=reason)
    elif decision is Decision.close:
        closing: ClosingReason | None = data.get("closing_reason")
        if closing is None or closing is ClosingReason.consent_withdrawn:
            raise InvalidInput(errors={"closing_reason": ["Bitte einen Grund für den Abschluss wählen."]})
        case_ops.fire_case(case, "close", actor=actor, now=now, closing_reason=closing, reason=reason)
        item.closing_reason = closing
    elif decision is Decision.escalate:
        case_ops.propose_escalation(case, {"escalated_to_agency_id": data.get("escalated_to_agency_id"),
                                           "justification": data.get("justification") or ""},
                                    actor=actor, now=now)
    item.decision, item.decided_dt, item.decided_by_id = decision, now, actor.id
    item.rereview_date = rereview if decision in (Decision.assign_lotse, Decision.rereview) else None
    record(db.session, "agenda_item.decide", now=now, actor=actor, object_type="agenda_item", object_id=item.id,
           family_ref=case.family_id, details={"decision": decision.value, "session_id": str(session.id)})
    db.session.flush()
    return item


def _present_member(session: ReviewSession, user_id: uuid.UUID | None) -> User:
    for user in lotse_options(session):
        if user.id == user_id:
            return user
    raise InvalidInput(errors={"lotse_user_id": ["Bitte eine anwesende Präventionskraft wählen."]})
