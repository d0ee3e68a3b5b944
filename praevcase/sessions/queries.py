"""Read side of sessions: lists, the agenda as one viewer may see it, and the chair's meeting view.

Personal data only through the vault: names (persons' identity fields) and the notes of the peer
consultation are revealed with vault.reveal_many for ``Purpose.team_review``. An agency the
consent does not name sees the pseudonymous case number and the non-identifying team summary,
and the marker "Einwilligung deckt Ihre Stelle nicht ab".

The meeting view is projected in the room, so it shows names and notes of a family only if the
family's consent covers every agency present (and the chair's); otherwise it says why not. The
number of queries does not grow with the agenda: rows, persons, consents, referrals and
attendees are each read once for all items.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from consent.policy import Subject
from consent.policy import Viewer
from consent.policy import decide
from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import User
from praevcase.cases import catalogue as case_cat
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import Denied
from praevcase.privacy.vault import grants_for
from praevcase.privacy.vault import reveal_many
from praevcase.referrals import queries as referral_queries
from praevcase.referrals.models import Referral
from praevcase.sessions.models import DECISION_LABELS
from praevcase.sessions.models import PRESENCE_LABELS
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.models import Presence
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.statemachine import permitted_triggers
from workflows import WORKFLOWS
from workflows.case import CLOSING_REASON_LABELS_DE
from workflows.case import CaseState
from workflows.review_session import ReviewSessionState

SESSION = WORKFLOWS["review_session"]
CASE = WORKFLOWS["case"]
NAMES = ["given_name", "family_name"]
#: Shown on the projector instead of names and notes the room may not see
ROOM_NOT_COVERED = Denied("room_not_covered")


def session_lists(now: datetime) -> tuple[list[ReviewSession], list[ReviewSession]]:
    """(upcoming, past) sessions; upcoming soonest first, past newest first."""
    rows = list(db.session.scalars(sa.select(ReviewSession).order_by(ReviewSession.starts_dt)))
    upcoming = [s for s in rows if s.ends_dt >= now and s.state not in (ReviewSessionState.minutes_final,)]
    past = [s for s in reversed(rows) if s not in upcoming]
    return upcoming, past


def item_counts(session_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not session_ids:
        return {}
    return dict(db.session.execute(sa.select(AgendaItem.session_id, sa.func.count())
                                   .where(AgendaItem.session_id.in_(session_ids)).group_by(AgendaItem.session_id)).all())


def attendees(session: ReviewSession) -> list[SessionAttendee]:
    """Attendee rows with their agency and person (joined), by agency name."""
    rows = list(db.session.scalars(sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id)))
    return sorted(rows, key=lambda a: a.agency.name)


def _rows(session: ReviewSession) -> list[tuple[AgendaItem, Case, Family]]:
    q = (sa.select(AgendaItem, Case, Family).join(Case, Case.id == AgendaItem.case_id)
         .join(Family, Family.id == Case.family_id).where(AgendaItem.session_id == session.id)
         .order_by(AgendaItem.position, AgendaItem.id))
    return [tuple(r) for r in db.session.execute(q)]  # type: ignore[misc]


def _persons(family_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Person]]:
    out: dict[uuid.UUID, list[Person]] = defaultdict(list)
    if family_ids:
        q = (sa.select(Person).where(Person.family_id.in_(family_ids))
             .order_by(Person.family_id, Person.role, Person.created_dt, Person.id))
        for p in db.session.scalars(q):
            out[p.family_id].append(p)
    return out


def _proposals(item_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Referral]]:
    out: dict[uuid.UUID, list[Referral]] = defaultdict(list)
    if item_ids:
        q = sa.select(Referral).where(Referral.agenda_item_id.in_(item_ids)).order_by(Referral.created_dt)
        for r in db.session.scalars(q):
            out[r.agenda_item_id].append(r)
    return out


def covers_room(family: Family, agency_ids: set[uuid.UUID], grants: list[Any], now: datetime) -> bool:
    """Does the family's consent let every agency in the room see names and notes (team review)?"""
    subject = Subject(tenant_id=str(family.tenant_id), family_id=str(family.id),
                      holder_agency_ids=frozenset({str(family.holder_agency_id)}))
    for agency_id in agency_ids:
        viewer = Viewer(user_id="room", tenant_id=str(family.tenant_id), agency_id=str(agency_id),
                        roles=frozenset({"team_member"}))
        for category in (DataCategory.identity, DataCategory.case_notes):
            if not decide(viewer=viewer, subject=subject, category=category, purpose=Purpose.team_review,
                          grants=grants, now=now).allowed:
                return False
    return True


def _name_line(persons: list[Person], values: list[dict[str, Any]]) -> dict[str, Any]:
    children, adults = [], []
    for person, v in zip(persons, values, strict=True):
        name = " ".join(x for x in (v.get("given_name"), v.get("family_name")) if x)
        (children if person.role is PersonRole.child else adults).append(name)
    return {"children": children, "adults": adults}


def agenda_view(session: ReviewSession, actor: Any, now: datetime, *, projector: bool = False,
                with_names: bool = True) -> dict[str, Any]:
    """The agenda as *actor* may see it; ``projector``: as the whole room may see it (the meeting view).

    ``with_names=False`` (the minutes) reveals no names at all: minutes are pseudonymous.
    """
    rows = _rows(session)
    family_ids = [f.id for _i, _c, f in rows]
    grants = grants_for(family_ids)
    people = _persons(family_ids) if with_names else defaultdict(list)
    present = {a.agency_id for a in attendees(session) if a.presence is Presence.present} | {actor.agency_id}
    shown = {f.id: (covers_room(f, present, grants[f.id], now) if projector else True) for _i, _c, f in rows}
    pairs = [(f, p) for _i, _c, f in rows if shown[f.id] for p in people[f.id]]
    revealed = iter(reveal_many(pairs, NAMES, actor=actor, purpose=Purpose.team_review, now=now) if pairs else [])
    noted = [(f, i) for i, _c, f in rows if i.notes_ct is not None and shown[f.id]]
    notes = dict(zip([i.id for _f, i in noted], reveal_many(noted, ["notes"], actor=actor, purpose=Purpose.team_review,
                                                            now=now), strict=True)) if noted else {}
    proposals = _proposals([i.id for i, _c, _f in rows])
    proposal_views = {r["id"]: r for r in referral_queries.views(
        [r for rs in proposals.values() for r in rs], actor, now, reveal_notes=False, with_triggers=False)}
    names = _user_names({i.lotse_user_id for i, _c, _f in rows} | {c.lotse_user_id for _i, c, _f in rows})
    items = []
    for item, case, family in rows:
        values = [next(revealed) for _p in people[family.id]] if shown[family.id] else []
        denied = next((v for vals in values for v in vals.values() if isinstance(v, Denied)), None)
        if not shown[family.id]:
            denied = ROOM_NOT_COVERED
        note = notes.get(item.id, {}).get("notes") if shown[family.id] else ROOM_NOT_COVERED
        items.append({
            "item": item, "id": item.id, "position": item.position, "case": case, "case_id": case.id,
            "case_number": family.case_number, "case_state_label": CASE.state_label(case.state),
            "on_agenda": case.state is CaseState.on_agenda, "team_summary": case.team_summary,
            "age_phase_label": case_cat.AGE_PHASE_LABELS.get(case.age_phase) if case.age_phase else None,
            "needs": [case_cat.NEED_LABELS.get(case_cat.Need(n), n) for n in case.needs],
            "names": None if denied is not None or not with_names else _name_line(people[family.id], values),
            "names_denied": denied, "notes": note, "has_notes": item.notes_ct is not None,
            "decision": item.decision, "decision_label": _(DECISION_LABELS[item.decision]) if item.decision else None,
            "lotse": names.get(item.lotse_user_id), "current_lotse": names.get(case.lotse_user_id),
            "rereview_date": item.rereview_date, "decided_dt": item.decided_dt,
            "closing_reason_label": CLOSING_REASON_LABELS_DE.get(item.closing_reason) if item.closing_reason else None,
            "proposals": [proposal_views[r.id] for r in proposals[item.id]],
            "settled": item.decision is not None or case.state is not CaseState.on_agenda,
        })
    return {"items": items, "open_items": sum(1 for i in items if not i["settled"])}


def _user_names(ids: set[Any]) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all())


def session_facts(session: ReviewSession) -> dict[str, Any]:
    return {"session": session, "state_label": SESSION.state_label(session.state)}


def attendee_views(session: ReviewSession) -> list[dict[str, Any]]:
    return [{"row": a, "id": a.id, "agency": a.agency.name, "agency_id": a.agency_id,
             "person": a.user.display_name if a.user else None, "user_id": a.user_id, "presence": a.presence,
             "presence_label": _(PRESENCE_LABELS[a.presence])} for a in attendees(session)]


def session_triggers(session: ReviewSession, actor: Any, now: datetime) -> list[dict[str, str]]:
    return [{"trigger": t, "label": SESSION.trigger_label(t)}
            for t in permitted_triggers(SESSION, session, actor=actor, now=now)]
