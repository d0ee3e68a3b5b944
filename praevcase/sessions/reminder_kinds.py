"""Reminder kinds of the Schnittstellengespräch.

- ``agenda_cutoff``: the coordinators build the agenda of a planned session before its cutoff
  (``agenda_cutoff_notice_days`` ahead);
- ``rereview_due``: the team set a re-review date for a case in support; its Lotse brings the
  case back to the team (``rereview_notice_days`` ahead).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.models import UserRole
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.lotse.queries import rereview_dates
from praevcase.privacy.models import Family
from praevcase.reminders.operations import state_is
from praevcase.reminders.registry import Occasion
from praevcase.reminders.registry import ReminderKind
from praevcase.reminders.registry import SweepContext
from praevcase.reminders.registry import register_kind
from praevcase.reminders.windows import local_date
from praevcase.reminders.windows import local_midnight
from praevcase.sessions.models import ReviewSession


def _coordinators(tenant_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
    return tuple(db.session.scalars(sa.select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        User.tenant_id == tenant_id, User.is_active.is_(True), UserRole.role == Role.coordinator)))


def _cutoff_due(ctx: SweepContext) -> Iterable[Occasion]:
    notice = timedelta(days=ctx.reminders["agenda_cutoff_notice_days"])
    rows = list(db.session.execute(
        sa.select(ReviewSession.id, ReviewSession.agenda_cutoff_dt, ReviewSession.starts_dt)
        .where(ReviewSession.tenant_id == ctx.tenant_id, state_is(ReviewSession.state, "planned"),
               ReviewSession.agenda_cutoff_dt <= ctx.now + notice, ReviewSession.starts_dt > ctx.now)))
    if not rows:
        return
    coordinators = _coordinators(ctx.tenant_id)
    for session_id, cutoff, starts in rows:
        yield Occasion(subject_type="review_session", subject_id=session_id, occurrence=local_date(cutoff).isoformat(),
                       opens_dt=cutoff - notice, due_dt=cutoff, link_path=f"/sitzungen/{session_id}",
                       user_ids=coordinators, params={"cutoff": local_date(cutoff).strftime("%d.%m.%Y"),
                                                      "session": local_date(starts).strftime("%d.%m.%Y")})


def _cutoff_valid(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
    """The session is still planned (agenda not frozen) and has not started."""
    open_ = set(db.session.scalars(sa.select(ReviewSession.id).where(
        ReviewSession.id.in_({r.subject_id for r in reminders}), state_is(ReviewSession.state, "planned"),
        ReviewSession.starts_dt > ctx.now)))
    return {r.id for r in reminders if r.subject_id in open_}


register_kind(ReminderKind(
    name="agenda_cutoff",
    label="Tagesordnung erstellen",
    due=_cutoff_due,
    still_valid=_cutoff_valid,
    text=lambda p: f"Tagesordnung für das Schnittstellengespräch am {p['session']} erstellen und festlegen "
                   f"(Stichtag {p['cutoff']})",
    recipient_roles=frozenset({Role.coordinator}),
))


def _in_support() -> sa.Select:
    return (sa.select(Case.id, Case.lotse_user_id, Family.case_number, Family.id)
            .join(Family, Family.id == Case.family_id)
            .where(state_is(Case.state, "in_support"), Case.lotse_user_id.is_not(None), Family.erased_dt.is_(None)))


def _rereview_due(ctx: SweepContext) -> Iterable[Occasion]:
    notice = timedelta(days=ctx.reminders["rereview_notice_days"])
    cases = {row[0]: row for row in db.session.execute(_in_support().where(Case.tenant_id == ctx.tenant_id))}
    for case_id, day in rereview_dates(list(cases)).items():
        due = local_midnight(day)
        if due - notice > ctx.now:
            continue
        _cid, lotse_id, number, family_id = cases[case_id]
        yield Occasion(subject_type="case", subject_id=case_id, occurrence=day.isoformat(), opens_dt=due - notice,
                       due_dt=due, case_number=number, family_id=family_id, link_path=f"/lotse/{case_id}",
                       user_ids=(lotse_id,), params={"day": day.strftime("%d.%m.%Y")})


def _rereview_valid(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
    """The case is still in support and its latest re-review date is the reminder's."""
    ids = {r.subject_id for r in reminders}
    supported = set(db.session.scalars(sa.select(Case.id).where(Case.id.in_(ids), state_is(Case.state, "in_support"))))
    dates = rereview_dates(list(supported))
    return {r.id for r in reminders if r.subject_id in dates and dates[r.subject_id].isoformat() == r.occurrence}


register_kind(ReminderKind(
    name="rereview_due",
    label="Wiedervorlage im Präventionsteam",
    due=_rereview_due,
    still_valid=_rereview_valid,
    text=lambda p: f"Wiedervorlage ab {p['day']}: den Fall erneut ins Schnittstellengespräch bringen oder abschließen",
    recipient_roles=frozenset({Role.team_member}),
))
