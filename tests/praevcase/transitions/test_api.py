"""The transition API: the same rules as the pages — own and handed-over protocols only, consent-checked reads."""
from __future__ import annotations

import pytest

from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.tenancy import set_scope
from praevcase.transitions import operations as ops
from praevcase.transitions.models import ProtocolKind
from tests.conftest import arrange
from tests.conftest import bearer
from tests.praevcase.transitions.conftest import CANARY_FAMILY
from tests.praevcase.transitions.conftest import CANARY_NOTE
from tests.praevcase.transitions.conftest import build_world
from tests.praevcase.transitions.conftest import consent_for
from tests.praevcase.transitions.conftest import new_protocol
from tests.praevcase.transitions.conftest import save


@pytest.fixture
def http_world(app):
    with arrange(app):
        return build_world()


def _finalized(app, w, *, consent_to=None):
    """A Ü1 protocol of the Kita addressed to the Grundschule, finalized, with a consent naming *consent_to*."""
    now = utcnow()
    with arrange(app):
        set_scope(db.session, w.tenant.id)
        p = new_protocol(w, ProtocolKind.u1, now, receiver=w.gs)
        save(p, w.kita_staff, now)
        ops.record_parent_talk(p, now.date(), actor=w.kita_staff, now=now)
        ops.fire(p, "finalize", actor=w.kita_staff, now=now)
        if consent_to is not None:
            consent_for(p, consent_to, w.kita_staff, now)
    return p


def _url(p, tail=""):
    return f"/api/v1/transitions/u1/{p.id}{tail}"


def test_the_kita_hands_over_and_the_school_confirms_through_the_api(app, client, http_world):
    w = http_world
    p = _finalized(app, w, consent_to=w.gs)
    kita, school = bearer(app, w.kita_staff), bearer(app, w.gs_staff)
    assert client.get("/api/v1/transitions/", headers=school).get_json() == []
    assert client.get(_url(p), headers=school).status_code == 404  # not before the handover

    listed = client.get("/api/v1/transitions/?kind=u1", headers=kita).get_json()
    assert [(r["id"], r["state"], r["own"]) for r in listed] == [(str(p.id), "ready", True)]
    assert "hand_over" in listed[0]["permitted_triggers"]
    assert CANARY_FAMILY not in str(listed)  # the list carries no personal data

    handed = client.post(_url(p, "/transitions"), headers=kita,
                         json={"trigger": "hand_over", "expected_version": listed[0]["version"]})
    assert handed.status_code == 200, handed.get_json()
    assert [h["legal_basis"] for h in handed.get_json()["handovers"]] == ["consent"]

    seen = client.get(_url(p), headers=school).get_json()
    assert seen["child"]["family_name"] == CANARY_FAMILY and CANARY_NOTE in str(seen["content"])
    assert seen["own"] is False and seen["permitted_triggers"] == ["confirm_receipt"]
    confirmed = client.post(_url(p, "/transitions"), headers=school,
                            json={"trigger": "confirm_receipt", "expected_version": seen["version"]})
    assert confirmed.status_code == 200 and confirmed.get_json()["state"] == "received"
    assert confirmed.get_json()["handovers"][0]["received_dt"] is not None


def test_a_handover_to_a_school_the_consent_does_not_name_is_refused(app, client, http_world):
    w = http_world
    p = _finalized(app, w, consent_to=w.gs2)  # the parents named the other Grundschule
    kita = bearer(app, w.kita_staff)
    refused = client.post(_url(p, "/transitions"), headers=kita, json={"trigger": "hand_over"})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json", refused.get_json()
    assert client.get(_url(p), headers=kita).get_json()["state"] == "ready"
    assert client.get(_url(p), headers=bearer(app, w.gs_staff)).status_code == 404


def test_a_stale_version_and_an_unknown_trigger_are_refused(app, client, http_world):
    w = http_world
    p = _finalized(app, w, consent_to=w.gs)
    kita = bearer(app, w.kita_staff)
    version = client.get(_url(p), headers=kita).get_json()["version"]
    stale = client.post(_url(p, "/transitions"), headers=kita, json={"trigger": "hand_over",
                                                                     "expected_version": version - 1})
    assert stale.status_code == 409 and stale.get_json()["code"] == "stale"
    unknown = client.post(_url(p, "/transitions"), headers=kita, json={"trigger": "issue"})
    assert unknown.status_code == 422 and "trigger" in unknown.get_json()["errors"]
    assert client.get(f"/api/v1/transitions/u3/{p.id}", headers=kita).status_code == 404


def test_other_institutions_and_tenants_get_404(app, client, http_world):
    w = http_world
    p = _finalized(app, w, consent_to=w.gs)
    for user in (w.kita2_staff, w.gs_staff, w.other_kita_staff):
        headers = bearer(app, user)
        assert client.get(_url(p), headers=headers).status_code == 404
        assert client.post(_url(p, "/transitions"), headers=headers,
                           json={"trigger": "hand_over"}).status_code == 404
        assert client.get("/api/v1/transitions/", headers=headers).get_json() == []


def test_reading_a_protocol_through_the_api_is_in_the_audit_log(app, client, http_world):
    from praevcase.audit.models import AuditEvent

    w = http_world
    p = _finalized(app, w)
    client.get(_url(p), headers=bearer(app, w.kita_staff))
    with arrange(app):
        set_scope(db.session, w.tenant.id)
        reads = db.session.scalars(db.select(AuditEvent.object_type).where(
            AuditEvent.action == "data.reveal", AuditEvent.outcome == "granted",
            AuditEvent.actor_user_id == w.kita_staff.id)).all()
    assert {"persons", "transition_protocol_versions"} <= set(reads)
