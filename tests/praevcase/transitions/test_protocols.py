"""Ü1/Ü2 protocols: dated sealed versions, the workflow, handover with consent, receipt, deferral, forward."""
from __future__ import annotations

from datetime import date
from datetime import timedelta

import pytest
import sqlalchemy as sa

from consent.scopes import LegalBasis
from praevcase.audit.operations import pending_events
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.privacy.vault import Denied
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings
from praevcase.transitions import operations as ops
from praevcase.transitions.models import Handover
from praevcase.transitions.models import ProtocolKind
from praevcase.transitions.models import ProtocolVersion
from tests.praevcase.transitions.conftest import CANARY_FAMILY
from tests.praevcase.transitions.conftest import CANARY_NOTE
from tests.praevcase.transitions.conftest import consent_for
from tests.praevcase.transitions.conftest import new_protocol
from tests.praevcase.transitions.conftest import save
from workflows.u1_protocol import U1ProtocolState as U1
from workflows.u2_protocol import U2ProtocolState as U2


def _ready_u1(world, now):
    p = new_protocol(world, ProtocolKind.u1, now, receiver=world.gs)
    save(p, world.kita_staff, now)
    ops.record_parent_talk(p, now.date(), actor=world.kita_staff, now=now)
    ops.fire(p, "finalize", actor=world.kita_staff, now=now)
    return p


def test_u1_school_year_follows_the_entry_cutoff(world, now):
    born_in_september = new_protocol(world, ProtocolKind.u1, now, birth=date(2021, 9, 30))
    assert born_in_september.school_year == 2027
    born_in_october = ops.create_protocol(
        ProtocolKind.u1, child={"given_name": "B", "family_name": "C", "birth_date": date(2021, 10, 1)},
        guardians=[{"given_name": "D", "family_name": "C"}], receiver_agency_id=None, school_year=None,
        actor=world.kita_staff, now=now)
    assert born_in_october.school_year == 2028


def test_only_a_kita_writes_u1_and_only_a_grundschule_writes_u2(world, now):
    with pytest.raises(PermissionDenied):
        new_protocol(world, ProtocolKind.u1, now, author=world.gs_staff)
    with pytest.raises(PermissionDenied):
        new_protocol(world, ProtocolKind.u2, now, author=world.kita_staff)
    with pytest.raises(InvalidInput):
        new_protocol(world, ProtocolKind.u1, now, receiver=world.ws1)  # Ü1 goes to a Grundschule


def test_every_save_is_a_dated_sealed_version(world, now):
    p = new_protocol(world, ProtocolKind.u1, now)
    first = save(p, world.kita_staff, now)
    later = now + timedelta(days=200)
    second = save(p, world.kita_staff, later, form={"support": "Logopädie"})
    assert (first.number, second.number) == (1, 2)
    assert (first.created_dt, second.created_dt) == (now, later)
    assert p.current_version_id == second.id
    raw = db.session.execute(sa.select(ProtocolVersion.content_ct)).scalars().all()
    assert all(CANARY_NOTE.encode() not in blob for blob in raw)
    content = ops.read_version(p, first, actor=world.kita_staff, now=later)
    assert content["areas"]["bewegung"]["note"] == CANARY_NOTE
    assert [v.number for v in ops.readable_versions(p, world.kita_staff)] == [2, 1]
    saves = [e for e in pending_events(db.session) if e["action"] == "transitions.u1.save"]
    assert len(saves) == 2 and all(CANARY_NOTE not in str(e["details"]) for e in saves)


def test_finalize_needs_the_talk_with_the_parents(world, now):
    p = new_protocol(world, ProtocolKind.u1, now, receiver=world.gs)
    save(p, world.kita_staff, now)
    with pytest.raises(Conflict):
        ops.fire(p, "finalize", actor=world.kita_staff, now=now)
    ops.record_parent_talk(p, now.date(), actor=world.kita_staff, now=now)
    ops.fire(p, "finalize", actor=world.kita_staff, now=now)
    assert p.state is U1.ready
    with pytest.raises(Conflict):
        save(p, world.kita_staff, now)  # final content is not edited; reopen first


def test_handover_needs_a_consent_naming_that_school(world, now):
    p = _ready_u1(world, now)
    with pytest.raises(Conflict):
        ops.fire(p, "hand_over", actor=world.kita_staff, now=now)
    consent_for(p, world.gs2, world.kita_staff, now)  # names another school
    with pytest.raises(Conflict):
        ops.fire(p, "hand_over", actor=world.kita_staff, now=now)
    rec = consent_for(p, world.gs, world.kita_staff, now)
    ops.fire(p, "hand_over", actor=world.kita_staff, now=now)
    handover = db.session.get(Handover, p.current_handover_id)
    assert p.state is U1.handed_over
    assert (handover.to_agency_id, handover.legal_basis, handover.consent_id) == (world.gs.id, "consent", rec.id)
    event = next(e for e in pending_events(db.session) if e["action"] == "transitions.u1.handover")
    assert event["legal_basis"] == "consent" and event["consent_id"] == rec.id


def test_receiving_school_reads_only_after_handover_and_only_with_consent(world, now):
    p = _ready_u1(world, now)
    consent = consent_for(p, world.gs, world.kita_staff, now)
    version = db.session.get(ProtocolVersion, p.current_version_id)
    with pytest.raises(Exception):  # noqa: B017 - not visible at all before the handover
        from praevcase.transitions.queries import get_protocol

        get_protocol(ProtocolKind.u1, p.id, world.gs_staff)
    ops.fire(p, "hand_over", actor=world.kita_staff, now=now)
    assert ops.read_child(p, actor=world.gs_staff, now=now)["family_name"] == CANARY_FAMILY
    assert ops.read_version(p, version, actor=world.gs_staff, now=now)["areas"]["bewegung"]["note"] == CANARY_NOTE
    later = now + timedelta(days=1)
    from praevcase.privacy.operations import withdraw_consent

    withdraw_consent(consent, via="phone", actor=world.coordinator, now=later)
    assert isinstance(ops.read_version(p, version, actor=world.gs_staff, now=later), Denied)
    assert ops.read_version(p, version, actor=world.kita_staff, now=later)["support"]  # the Kita's own record


def test_receipt_is_confirmed_by_the_receiving_school_only(world, now):
    p = _ready_u1(world, now)
    consent_for(p, world.gs, world.kita_staff, now)
    ops.fire(p, "hand_over", actor=world.kita_staff, now=now)
    for outsider in (world.kita_staff, world.gs2_staff, world.ws1_staff):
        with pytest.raises(PermissionDenied):
            ops.fire(p, "confirm_receipt", actor=outsider, now=now)
    ops.fire(p, "confirm_receipt", actor=world.gs_staff, now=now)
    assert p.state is U1.received
    assert db.session.get(Handover, p.current_handover_id).received_by_id == world.gs_staff.id


def test_deferral_moves_the_protocol_to_the_next_school_year(world, now):
    p = _ready_u1(world, now)
    ops.fire(p, "defer", actor=world.kita_staff, now=now, reason="Zurückstellung durch die Schulleitung")
    assert (p.state, p.school_year, p.deferrals) == (U1.deferred, 2028, 1)
    ops.fire(p, "resume", actor=world.kita_staff, now=now)
    assert p.state is U1.draft  # a year later the protocol is reviewed with the parents again


def test_school_start_moves_received_protocols_to_follow_up(world, now):
    p = _ready_u1(world, now)
    consent_for(p, world.gs, world.kita_staff, now)
    ops.fire(p, "hand_over", actor=world.kita_staff, now=now)
    ops.fire(p, "confirm_receipt", actor=world.gs_staff, now=now)
    from praevcase.reminders.windows import local_midnight

    assert ops.mark_school_started(now=local_midnight(date(2027, 7, 31))) == 0
    assert ops.mark_school_started(now=local_midnight(date(2027, 8, 1))) == 1
    assert p.state is U1.follow_up_due
    with pytest.raises(InvalidInput):
        ops.fire(p, "record_follow_up", actor=world.kita_staff, now=now)
    ops.fire(p, "record_follow_up", actor=world.kita_staff, now=now, follow_up_on=date(2027, 9, 20), note=CANARY_NOTE)
    assert p.state is U1.followed_up
    assert ops.read_follow_up_note(p, actor=world.kita_staff, now=now) == CANARY_NOTE
    assert CANARY_NOTE.encode() not in p.follow_up_note_ct


def _issued_u2(world, now):
    p = new_protocol(world, ProtocolKind.u2, now, receiver=world.ws1, school_year=2027)
    with pytest.raises(Conflict):
        ops.fire(p, "issue", actor=world.gs_staff, now=now)  # no recommendation yet
    save(p, world.gs_staff, now)
    ops.fire(p, "issue", actor=world.gs_staff, now=now)
    return p


def test_u2_issue_needs_a_reasoned_recommendation(world, now):
    p = _issued_u2(world, now)
    assert p.state is U2.issued and p.has_recommendation


def test_u2_forward_on_school_change_needs_consent_for_the_new_school(world, now):
    p = _issued_u2(world, now)
    consent_for(p, world.ws1, world.gs_staff, now)
    ops.fire(p, "hand_over", actor=world.gs_staff, now=now)
    ops.fire(p, "confirm_receipt", actor=world.ws1_staff, now=now)
    with pytest.raises(PermissionDenied):
        ops.fire(p, "forward", actor=world.gs_staff, now=now, to=world.ws2.id)  # the school that has it sends it on
    with pytest.raises(Conflict):
        ops.fire(p, "forward", actor=world.ws1_staff, now=now, to=world.ws2.id)
    consent_for(p, world.ws2, world.ws1_staff, now)
    ops.fire(p, "forward", actor=world.ws1_staff, now=now, to=world.ws2.id)
    assert (p.state, p.sender_agency_id, p.receiver_agency_id) == (U2.handed_over, world.ws1.id, world.ws2.id)
    ops.fire(p, "confirm_receipt", actor=world.ws2_staff, now=now)
    handovers = db.session.scalars(sa.select(Handover).where(Handover.u2_protocol_id == p.id)
                                   .order_by(Handover.handed_over_dt, Handover.id)).all()
    assert [(h.from_agency_id, h.to_agency_id) for h in handovers] == [(world.gs.id, world.ws1.id),
                                                                        (world.ws1.id, world.ws2.id)]


def test_u2_under_school_law_records_that_basis_and_the_school_reads_on_it(world, now):
    tenant = db.session.get(Tenant, world.tenant.id)
    tenant.settings = effective_settings({**tenant.settings, "u2_handover_basis": "school_law"})
    p = _issued_u2(world, now)
    ops.fire(p, "hand_over", actor=world.gs_staff, now=now)
    handover = db.session.get(Handover, p.current_handover_id)
    assert (handover.legal_basis, handover.consent_id) == ("school_law", None)
    assert ops.reader_basis(p, world.ws1_staff) is LegalBasis.school_law
    version = db.session.get(ProtocolVersion, p.current_version_id)
    assert ops.read_version(p, version, actor=world.ws1_staff, now=now)["recommendation"] == "realschule"
    event = next(e for e in pending_events(db.session) if e["action"] == "data.reveal"
                 and e["actor_agency_id"] == world.ws1.id)
    assert event["legal_basis"] == "school_law"


def test_template_changes_are_new_versions_and_old_versions_keep_theirs(world, now):
    p = new_protocol(world, ProtocolKind.u1, now)
    first = save(p, world.kita_staff, now)
    tenant = db.session.get(Tenant, world.tenant.id)
    t2 = ops.update_template(tenant, ProtocolKind.u1, areas=["Bewegung", "Sprache"], scale=["gut", "weniger"],
                             recommendations=[], actor=world.admin, now=now)
    assert t2.version == 2 and [a["key"] for a in t2.areas] == ["bewegung", "sprache"]
    assert first.template_id != t2.id
    assert ops.current_template(tenant.id, ProtocolKind.u1, now=now).id == t2.id
