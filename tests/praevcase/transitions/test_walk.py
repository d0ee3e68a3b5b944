"""One child from the Kita to grade 5 on a frozen clock: every reminder fires in its corridor and no other.

The clock is passed into every operation and sweep (no time mocking). At each checkpoint the whole
set of open reminders is compared, so a reminder that fires early, late, twice or for the wrong
person fails the walk; at the end the full list of reminders ever created is compared too.
"""
from __future__ import annotations

from datetime import date
from datetime import datetime

import sqlalchemy as sa

from praevcase.extensions import db
from praevcase.reminders.jobs import run_sweep
from praevcase.reminders.models import Reminder
from praevcase.reminders.models import ReminderState
from praevcase.reminders.windows import TIMEZONE
from praevcase.tenancy import set_scope
from praevcase.transitions import operations as ops
from praevcase.transitions.models import ProtocolKind
from tests.praevcase.transitions.conftest import consent_for
from tests.praevcase.transitions.conftest import new_protocol
from tests.praevcase.transitions.conftest import save
from workflows.u1_protocol import U1ProtocolState as U1
from workflows.u2_protocol import U2ProtocolState as U2


def at(y: int, m: int, d: int, hour: int = 0, minute: int = 0) -> datetime:
    """A German wall-clock time."""
    return datetime(y, m, d, hour, minute, tzinfo=TIMEZONE)


class Walk:
    def __init__(self, world):
        self.world = world
        self.names = {world.kita_staff.id: "Kita", world.gs_staff.id: "GS", world.ws1_staff.id: "WS1",
                      world.ws2_staff.id: "WS2"}

    def sweep(self, when: datetime) -> set[tuple[str, str]]:
        run_sweep(now=when)
        set_scope(db.session, self.world.tenant.id)
        return self.open()

    def open(self) -> set[tuple[str, str]]:
        rows = db.session.scalars(sa.select(Reminder).where(Reminder.state == ReminderState.open)).all()
        return {(r.kind, self.names.get(r.recipient_id, "?")) for r in rows}

    def all(self) -> list[tuple[str, str, str]]:
        rows = db.session.scalars(sa.select(Reminder).order_by(Reminder.opens_dt, Reminder.kind)).all()
        return [(r.kind, self.names.get(r.recipient_id, "?"), r.state.value) for r in rows]


def test_one_child_from_kita_to_grade_5_with_deferral_and_school_change(world):
    w = Walk(world)
    kita, gs, ws1, ws2 = world.kita_staff, world.gs_staff, world.ws1_staff, world.ws2_staff

    # Kita years: the Ü1 protocol is written over time (child born 14.03.2021 → school entry 2027)
    u1 = new_protocol(world, ProtocolKind.u1, at(2025, 9, 1, 9), receiver=world.gs)
    assert u1.school_year == 2027
    save(u1, kita, at(2025, 9, 1, 9))
    assert w.sweep(at(2025, 9, 1, 10)) == set()
    save(u1, kita, at(2026, 9, 1, 9))
    assert w.sweep(at(2027, 4, 2, 23, 59)) == set()  # handover corridor opens 120 days before 01.08.2027
    assert w.sweep(at(2027, 4, 3)) == {("u1_handover_due", "Kita")}
    assert w.sweep(at(2027, 4, 10)) == {("u1_handover_due", "Kita")}  # a second sweep creates nothing

    # Zurückstellung: school entry deferred by a year; the 2027 reminder disappears at once
    ops.fire(u1, "defer", actor=kita, now=at(2027, 5, 1, 10), reason="Zurückstellung")
    assert u1.school_year == 2028 and w.open() == set()
    assert w.sweep(at(2027, 7, 20)) == set()
    assert w.sweep(at(2028, 4, 2, 12)) == set()
    assert w.sweep(at(2028, 4, 3)) == {("u1_handover_due", "Kita")}

    # the Kita resumes, reviews with the parents, records their consent for the Grundschule, hands over
    ops.fire(u1, "resume", actor=kita, now=at(2028, 4, 10, 9))
    save(u1, kita, at(2028, 4, 10, 9))
    ops.record_parent_talk(u1, date(2028, 4, 12), actor=kita, now=at(2028, 4, 12, 15))
    ops.fire(u1, "finalize", actor=kita, now=at(2028, 4, 12, 16))
    assert w.sweep(at(2028, 4, 13)) == {("u1_handover_due", "Kita")}
    consent = consent_for(u1, world.gs, kita, at(2028, 4, 20, 10), valid_days=255)  # until 31.12.2028, 10:00
    ops.fire(u1, "hand_over", actor=kita, now=at(2028, 5, 2, 10))
    assert w.open() == set()

    # the Grundschule does not confirm for 14 days
    assert w.sweep(at(2028, 5, 16, 9, 59)) == set()
    assert w.sweep(at(2028, 5, 16, 10, 1)) == {("handover_not_received", "GS")}
    ops.fire(u1, "confirm_receipt", actor=gs, now=at(2028, 5, 20, 8))
    assert w.open() == set()

    # school starts on 01.08.2028: the sweep records it; the follow-up corridor opens 28 days later
    assert w.sweep(at(2028, 7, 31, 23)) == set() and u1.state is U1.received
    assert w.sweep(at(2028, 8, 1)) == set() and u1.state is U1.follow_up_due
    assert w.sweep(at(2028, 8, 28, 23)) == set()
    assert w.sweep(at(2028, 8, 29)) == {("u1_follow_up_due", "Kita")}
    ops.fire(u1, "record_follow_up", actor=kita, now=at(2028, 9, 15, 14), follow_up_on=date(2028, 9, 15))
    assert w.open() == set() and u1.state is U1.followed_up

    # the handover consent ends on 31.12.2028: reminded 30 days before, gone once it has expired
    assert consent.valid_until == at(2028, 12, 31, 10)
    assert w.sweep(at(2028, 12, 1, 9)) == set()
    assert w.sweep(at(2028, 12, 1, 10, 1)) == {("consent_expiring", "Kita")}
    assert w.sweep(at(2028, 12, 31, 10, 1)) == set()

    # grade 4: the Grundschule writes the Ü2 protocol (grade 5 from August 2032)
    u2 = new_protocol(world, ProtocolKind.u2, at(2031, 9, 1, 9), receiver=world.ws1, school_year=2032)
    assert w.sweep(at(2031, 12, 19, 23)) == set()  # 42 days before the half-year report of 31.01.2032
    assert w.sweep(at(2031, 12, 20)) == {("u2_issue_due", "GS")}
    save(u2, gs, at(2032, 1, 25, 9))
    ops.fire(u2, "issue", actor=gs, now=at(2032, 1, 28, 9))
    assert w.open() == set()
    consent_for(u2, world.ws1, gs, at(2032, 2, 20, 9))
    ops.fire(u2, "hand_over", actor=gs, now=at(2032, 3, 1, 9))
    assert w.sweep(at(2032, 3, 15, 9, 1)) == {("handover_not_received", "WS1")}
    ops.fire(u2, "confirm_receipt", actor=ws1, now=at(2032, 3, 20, 9))
    assert w.open() == set()

    # grade 6: the child changes school; the protocol travels with it, on a consent for the new school
    consent_for(u2, world.ws2, ws1, at(2032, 11, 2, 9))
    ops.fire(u2, "forward", actor=ws1, now=at(2032, 11, 2, 10), to=world.ws2.id)
    assert w.sweep(at(2032, 11, 16, 9)) == set()
    assert w.sweep(at(2032, 11, 16, 10, 1)) == {("handover_not_received", "WS2")}
    ops.fire(u2, "confirm_receipt", actor=ws2, now=at(2032, 11, 20, 9))
    assert u2.state is U2.received and w.open() == set()
    assert w.sweep(at(2033, 6, 1)) == set()

    assert w.all() == [
        ("u1_handover_due", "Kita", "cancelled"),  # 2027, gone with the deferral
        ("u1_handover_due", "Kita", "cancelled"),  # 2028, gone with the handover
        ("handover_not_received", "GS", "cancelled"),
        ("u1_follow_up_due", "Kita", "cancelled"),
        ("consent_expiring", "Kita", "cancelled"),
        ("u2_issue_due", "GS", "cancelled"),
        ("handover_not_received", "WS1", "cancelled"),
        ("handover_not_received", "WS2", "cancelled"),
    ]
