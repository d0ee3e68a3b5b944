"""Reminder kinds of the transitions, and the school-start job the sweep runs before them.

- ``u1_handover_due``: the Kita hands the Ü1 protocol over before school starts (also after a
  deferral, for the new school year);
- ``u1_follow_up_due``: the Kita visits the Grundschule after school start;
- ``u2_issue_due``: the Grundschule issues the Ü2 protocol with the grade-4 half-year report;
- ``handover_not_received``: a handed-over protocol (Ü1 or Ü2) was not confirmed by the school.

Corridors and N come from the tenant's ``settings["reminders"]`` and ``settings["school_calendar"]``.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.extensions import db
from praevcase.reminders.operations import case_numbers
from praevcase.reminders.operations import state_is
from praevcase.reminders.registry import Occasion
from praevcase.reminders.registry import ReminderKind
from praevcase.reminders.registry import SweepContext
from praevcase.reminders.registry import register_job
from praevcase.reminders.registry import register_kind
from praevcase.reminders.windows import Corridor
from praevcase.reminders.windows import local_date
from praevcase.transitions.calendar import SchoolCalendar
from praevcase.transitions.models import U1_BEFORE_HANDOVER
from praevcase.transitions.models import Handover
from praevcase.transitions.models import ProtocolKind
from praevcase.transitions.models import U1Protocol
from praevcase.transitions.models import U2Protocol
from praevcase.transitions.operations import mark_school_started

URL_PREFIX = "/uebergaenge"
SEGMENT = {ProtocolKind.u1: "ue1", ProtocolKind.u2: "ue2"}
STAFF = frozenset({Role.school_staff})


def protocol_path(kind: ProtocolKind, protocol_id: uuid.UUID) -> str:
    return f"{URL_PREFIX}/{SEGMENT[kind]}/{protocol_id}"


def _school_year(year: int) -> str:
    return f"{year}/{str(year + 1)[-2:]}"


def _open_years(ctx: SweepContext, corridor: Any) -> list[int]:
    """School years whose corridor contains now (at most a few around today)."""
    today = SchoolCalendar.of(ctx.settings).school_year_of(local_date(ctx.now))
    return [y for y in range(today - 1, today + 3) if corridor(y).contains(ctx.now)]


def _by_state_and_year(model: Any, states: tuple[str, ...], corridor: Any, *, ctx: SweepContext,
                       kind: ProtocolKind) -> Iterable[Occasion]:
    """Occasions for protocols in *states* of the school years whose corridor is open (a partial index)."""
    years = _open_years(ctx, corridor)
    if not years:
        return
    rows = db.session.execute(
        sa.select(model.id, model.family_id, model.author_agency_id, model.school_year)
        .where(model.tenant_id == ctx.tenant_id, state_is(model.state, *states), model.school_year.in_(years))).all()
    numbers = case_numbers(r.family_id for r in rows)
    for protocol_id, family_id, agency_id, year in rows:
        if family_id not in numbers:
            continue  # erased
        window: Corridor = corridor(year)
        yield Occasion(subject_type=f"{kind.value}_protocol", subject_id=protocol_id, occurrence=str(year),
                       opens_dt=window.opens, due_dt=window.due, case_number=numbers[family_id],
                       family_id=family_id, link_path=protocol_path(kind, protocol_id), agency_id=agency_id,
                       params={"school_year": _school_year(year)})


def _still(model: Any, states: tuple[str, ...], corridor: Any):
    """Validity: the protocol is still in *states*, in the reminder's school year, inside the corridor."""

    def check(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
        rows = db.session.execute(
            sa.select(model.id, model.school_year, model.family_id)
            .where(model.id.in_({r.subject_id for r in reminders}), state_is(model.state, *states))).all()
        numbers = case_numbers(r.family_id for r in rows)
        years = {pid: year for pid, year, family_id in rows if family_id in numbers}
        return {r.id for r in reminders if r.subject_id in years and str(years[r.subject_id]) == r.occurrence
                and corridor(ctx)(years[r.subject_id]).contains(ctx.now)}

    return check


def _calendar_corridor(method: str):
    """A function ctx -> (year -> Corridor) from a SchoolCalendar method and the tenant's windows."""
    return lambda ctx: (lambda year: getattr(SchoolCalendar.of(ctx.settings), method)(year, ctx.reminders))


U1_BEFORE = tuple(s.value for s in U1_BEFORE_HANDOVER)
_u1_handover = _calendar_corridor("u1_handover")
_u1_follow_up = _calendar_corridor("u1_follow_up")
_u2_issue = _calendar_corridor("u2_issue")

register_kind(ReminderKind(
    name="u1_handover_due",
    label="Ü1-Protokoll übergeben",
    due=lambda ctx: _by_state_and_year(U1Protocol, U1_BEFORE, _u1_handover(ctx), ctx=ctx, kind=ProtocolKind.u1),
    still_valid=_still(U1Protocol, U1_BEFORE, _u1_handover),
    text=lambda p: f"Ü1-Protokoll mit den Eltern besprechen und an die Grundschule übergeben "
                   f"(Einschulung Schuljahr {p['school_year']})",
    recipient_roles=STAFF,
))

register_kind(ReminderKind(
    name="u1_follow_up_due",
    label="Nachgespräch Ü1",
    due=lambda ctx: _by_state_and_year(U1Protocol, ("follow_up_due",), _u1_follow_up(ctx), ctx=ctx,
                                       kind=ProtocolKind.u1),
    still_valid=_still(U1Protocol, ("follow_up_due",), _u1_follow_up),
    text=lambda p: f"Nachgespräch an der Grundschule führen und erfassen (Schuljahr {p['school_year']})",
    recipient_roles=STAFF,
))

register_kind(ReminderKind(
    name="u2_issue_due",
    label="Ü2-Protokoll ausstellen",
    due=lambda ctx: _by_state_and_year(U2Protocol, ("draft",), _u2_issue(ctx), ctx=ctx, kind=ProtocolKind.u2),
    still_valid=_still(U2Protocol, ("draft",), _u2_issue),
    text=lambda p: f"Ü2-Protokoll mit dem Halbjahreszeugnis der Klasse 4 ausstellen "
                   f"(Übergang in Klasse 5 zum Schuljahr {p['school_year']})",
    recipient_roles=STAFF,
))


def _not_received_due(ctx: SweepContext) -> Iterable[Occasion]:
    days = timedelta(days=ctx.reminders["handover_receipt_days"])
    for kind, model in ((ProtocolKind.u1, U1Protocol), (ProtocolKind.u2, U2Protocol)):
        fk = getattr(Handover, f"{kind.value}_protocol_id")
        rows = db.session.execute(
            sa.select(Handover.id, Handover.handed_over_dt, Handover.to_agency_id, model.id, model.family_id)
            .join(model, sa.and_(model.id == fk, model.current_handover_id == Handover.id))
            .where(Handover.tenant_id == ctx.tenant_id, Handover.received_dt.is_(None),
                   Handover.handed_over_dt <= ctx.now - days, state_is(model.state, "handed_over"))).all()
        numbers = case_numbers(r.family_id for r in rows)
        for handover_id, handed_over_dt, to_agency, protocol_id, family_id in rows:
            if family_id not in numbers:
                continue
            yield Occasion(subject_type=f"{kind.value}_protocol", subject_id=protocol_id,
                           occurrence=str(handover_id), opens_dt=handed_over_dt + days,
                           due_dt=handed_over_dt + 2 * days, case_number=numbers[family_id], family_id=family_id,
                           link_path=protocol_path(kind, protocol_id), agency_id=to_agency,
                           params={"kind": "Ü1" if kind is ProtocolKind.u1 else "Ü2",
                                   "handed_over": local_date(handed_over_dt).strftime("%d.%m.%Y")})


def _not_received_valid(ctx: SweepContext, reminders: Sequence[Any]) -> set[uuid.UUID]:
    """The handover named in the reminder is still the protocol's current one and still unconfirmed."""
    pending = set(db.session.scalars(
        sa.select(Handover.id).where(Handover.id.in_({uuid.UUID(r.occurrence) for r in reminders}),
                                     Handover.received_dt.is_(None))))
    current: dict[uuid.UUID, uuid.UUID] = {}
    for model in (U1Protocol, U2Protocol):
        rows = db.session.execute(
            sa.select(model.id, model.current_handover_id, model.family_id)
            .where(model.id.in_({r.subject_id for r in reminders}), state_is(model.state, "handed_over"))).all()
        numbers = case_numbers(r.family_id for r in rows)
        current.update({pid: handover for pid, handover, family_id in rows if family_id in numbers})
    return {r.id for r in reminders
            if uuid.UUID(r.occurrence) in pending and current.get(r.subject_id) == uuid.UUID(r.occurrence)}


register_kind(ReminderKind(
    name="handover_not_received",
    label="Empfang eines Übergangsprotokolls bestätigen",
    due=_not_received_due,
    still_valid=_not_received_valid,
    text=lambda p: f"{p['kind']}-Protokoll, übergeben am {p['handed_over']}: Empfang bestätigen",
    recipient_roles=STAFF,
))

register_job("transitions.school_started", mark_school_started)
