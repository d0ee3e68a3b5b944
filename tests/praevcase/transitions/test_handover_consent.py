"""A protocol never reaches a school that no active consent names (or, for Ü2, the recorded school law)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.errors import Conflict
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.privacy import operations as privacy_ops
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.tenants.models import Tenant
from praevcase.transitions import operations as ops
from praevcase.transitions import queries
from praevcase.transitions.models import Handover
from praevcase.transitions.models import ProtocolKind
from tests.praevcase.transitions.conftest import new_protocol
from tests.praevcase.transitions.conftest import save
from workflows.u1_protocol import U1ProtocolState

CONSENTS = st.lists(st.fixed_dictionaries({
    "schools": st.sets(st.sampled_from(["gs", "gs2"]), min_size=1),
    "purposes": st.sets(st.sampled_from(["transition_u1", "transition_u2", "team_review"]), min_size=1),
    "categories": st.sets(st.sampled_from(["identity", "education", "health"]), min_size=1),
    "ended": st.sampled_from([None, "withdrawn", "expired", "not_yet"]),
}), max_size=3)


@pytest.fixture
def template(world, now):
    tenant = db.session.get(Tenant, world.tenant.id)
    return privacy_ops.create_template(tenant, key="alles", version=1, language="de", title="T", body="B",
                                       plain_body="P", purpose_texts={p: p for p in ("transition_u1", "transition_u2",
                                                                                     "team_review")},
                                       actor=world.kita_staff, now=now)


def _record(world, protocol, template, spec, now):
    guardian = db.session.query(Person).filter_by(family_id=protocol.family_id, role=PersonRole.guardian).first()
    valid = {"expired": (now - timedelta(days=30), now - timedelta(days=1)),
             "not_yet": (now + timedelta(days=1), now + timedelta(days=30))}.get(spec["ended"], (None, None))
    rec = privacy_ops.record_consent(
        db.session.get(Family, protocol.family_id),
        template=template, purposes={Purpose(p) for p in spec["purposes"]},
        categories={DataCategory(c) for c in spec["categories"]},
        recipient_agency_ids={getattr(world, s).id for s in spec["schools"]}, signatories=[{"person_id": guardian.id}],
        channel=ConsentChannel.written, actor=world.kita_staff, now=now, valid_from=valid[0], valid_until=valid[1])
    if spec["ended"] == "withdrawn":
        privacy_ops.withdraw_consent(rec, via="written", actor=world.coordinator, now=now)
    return rec


def _covered(consents, target) -> bool:
    """The oracle: every category the school receives is covered by an active Ü1 consent naming it."""
    active = [c for c in consents if c["ended"] is None and "transition_u1" in c["purposes"] and target in c["schools"]]
    return all(any(cat in c["categories"] for c in active) for cat in ("identity", "education"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(consents=CONSENTS, target=st.sampled_from(["gs", "gs2"]))
def test_a_protocol_reaches_only_a_school_named_in_an_active_consent(world, now, template, consents, target):
    protocol = new_protocol(world, ProtocolKind.u1, now, receiver=getattr(world, target))
    save(protocol, world.kita_staff, now)
    ops.record_parent_talk(protocol, now.date(), actor=world.kita_staff, now=now)
    ops.fire(protocol, "finalize", actor=world.kita_staff, now=now)
    for spec in consents:
        _record(world, protocol, template, spec, now)
    if _covered(consents, target):
        ops.fire(protocol, "hand_over", actor=world.kita_staff, now=now)
        assert db.session.get(Handover, protocol.current_handover_id).to_agency_id == getattr(world, target).id
    else:
        with pytest.raises(Conflict):
            ops.fire(protocol, "hand_over", actor=world.kita_staff, now=now)
        assert protocol.state is U1ProtocolState.ready and protocol.current_handover_id is None
    for school in ("gs", "gs2"):
        staff = getattr(world, f"{school}_staff")
        if protocol.current_handover_id is not None and school == target:
            assert queries.get_protocol(ProtocolKind.u1, protocol.id, staff)
        else:
            with pytest.raises(NotFound):
                queries.get_protocol(ProtocolKind.u1, protocol.id, staff)


def test_a_school_named_only_for_the_other_transition_gets_nothing(world, now, template):
    protocol = new_protocol(world, ProtocolKind.u1, now, receiver=world.gs)
    save(protocol, world.kita_staff, now)
    ops.record_parent_talk(protocol, now.date(), actor=world.kita_staff, now=now)
    ops.fire(protocol, "finalize", actor=world.kita_staff, now=now)
    _record(world, protocol, template, {"schools": {"gs"}, "purposes": {"transition_u2"},
                                                      "categories": {"identity", "education"}, "ended": None}, now)
    with pytest.raises(Conflict):
        ops.fire(protocol, "hand_over", actor=world.kita_staff, now=now)
