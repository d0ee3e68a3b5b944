"""Idempotency-Key on the API's POSTs: replay, refusal of a reused key, isolation per user and tenant."""
from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from praevcase import idempotency
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.idempotency import IdempotencyKey
from praevcase.statemachine import TransitionHistory
from tests.conftest import arrange
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.cases.conftest import build_kreis
from tests.praevcase.cases.conftest import jobcenter_payload

INTAKE = "/api/v1/cases/intake/jobcenter"


@pytest.fixture
def kreis(app):
    with arrange(app) as session:
        k = build_kreis(session)
    k.app = app
    return k


@pytest.fixture
def other_kreis(app):
    with arrange(app) as session:
        k = build_kreis(session)
    k.app = app
    return k


def _other_family(k, name: str = "Andersfamilie") -> dict:
    body = jobcenter_payload(k)
    for person in body["children"] + body["guardians"]:
        person["family_name"] = name
    return body


def _h(headers: dict, key: str | None) -> dict:
    return {**headers, "Idempotency-Key": key} if key else headers


def _count(app, model, *where) -> int:
    with arrange(app):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _history(app, case_id) -> int:
    return _count(app, TransitionHistory, TransitionHistory.object_id == case_id)


def _ready_case(client, kreis) -> dict:
    response = client.post(INTAKE, json=jobcenter_payload(kreis), headers=kreis.token(kreis.intake))
    assert response.status_code == 201 and response.json["state"] == "ready_for_review"
    return response.json


def test_a_repeated_intake_returns_the_stored_response_and_opens_one_case(app, client, kreis):
    headers = _h(kreis.token(kreis.intake), "intake-0001")
    first = client.post(INTAKE, json=jobcenter_payload(kreis), headers=headers)
    again = client.post(INTAKE, json=jobcenter_payload(kreis), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.mimetype == first.mimetype == "application/json"
    assert _count(app, Case, Case.tenant_id == kreis.tenant.id) == 1


def test_a_repeated_transition_fires_once_and_json_key_order_does_not_matter(app, client, kreis):
    case = _ready_case(client, kreis)
    url, headers = f"/api/v1/cases/{case['id']}/transitions", _h(kreis.token(kreis.coordinator), "t-1")
    first = client.post(url, json={"trigger": "put_on_agenda", "version": case["version"]}, headers=headers)
    reordered = client.post(url, data=f'{{ "version": {case["version"]},  "trigger": "put_on_agenda" }}',
                            content_type="application/json", headers=headers)
    assert first.status_code == reordered.status_code == 200
    assert reordered.json == first.json and reordered.headers["Idempotent-Replayed"] == "true"
    before = _history(app, case["id"])
    # without the key the same body is a new request: stale now, so 409
    assert client.post(url, json={"trigger": "put_on_agenda", "version": case["version"]},
                       headers=kreis.token(kreis.coordinator)).status_code == 409
    assert _history(app, case["id"]) == before
    with arrange(app):
        assert db.session.get(Case, case["id"]).version == first.json["version"]


def test_the_same_key_with_another_body_or_path_is_refused_with_422(app, client, kreis):
    case = _ready_case(client, kreis)
    url, headers = f"/api/v1/cases/{case['id']}/transitions", _h(kreis.token(kreis.coordinator), "k-reuse")
    assert client.post(url, json={"trigger": "put_on_agenda", "version": case["version"]},
                       headers=headers).status_code == 200
    history = _history(app, case["id"])
    for path, body in ((url, {"trigger": "defer", "version": case["version"] + 1}),
                       (url, {"trigger": "put_on_agenda", "version": case["version"], "reason": "x"}),
                       (f"/api/v1/cases/{case['id']}/intake-confirmation", {"version": case["version"]})):
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 422, path
        assert refused.mimetype == "application/problem+json"
        assert refused.json["code"] == "idempotency_key_reused"
    assert _history(app, case["id"]) == history


def test_another_users_key_and_another_tenants_key_are_other_keys(app, client, kreis, other_kreis):
    key = "shared-key-42"
    mine = client.post(INTAKE, json=jobcenter_payload(kreis), headers=_h(kreis.token(kreis.intake), key))
    colleague = client.post(INTAKE, json=_other_family(kreis), headers=_h(kreis.token(kreis.intake2), key))
    foreign = client.post(INTAKE, json=jobcenter_payload(other_kreis),
                          headers=_h(other_kreis.token(other_kreis.intake), key))
    assert mine.status_code == colleague.status_code == foreign.status_code == 201
    assert "Idempotent-Replayed" not in colleague.headers and "Idempotent-Replayed" not in foreign.headers
    assert len({mine.json["id"], colleague.json["id"], foreign.json["id"]}) == 3
    # the other tenant's user replaying the first body under that key gets no access to it either
    leaked = client.post(INTAKE, json=jobcenter_payload(kreis), headers=_h(other_kreis.token(other_kreis.intake), key))
    assert leaked.status_code == 422 and mine.json["id"] not in leaked.get_data(as_text=True)
    assert _count(app, IdempotencyKey, IdempotencyKey.key == key) == 3


def test_a_duplicate_in_flight_gets_409_at_once(app, client, kreis, database_url):
    headers = kreis.token(kreis.intake)
    with arrange(app):
        from praevcase.accounts.models import User

        user = db.session.get(User, kreis.intake.id)
        lock = idempotency._lock_id(user.tenant_id, user.id, "in-flight")
    # another connection plays the first request, still running: it holds the key's lock
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1)) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (lock,))
        busy = client.post(INTAKE, json=jobcenter_payload(kreis), headers=_h(headers, "in-flight"))
        other.execute("SELECT pg_advisory_unlock(%s)", (lock,))
    assert busy.status_code == 409 and busy.json["code"] == "idempotency_in_flight"
    assert _count(app, Case, Case.tenant_id == kreis.tenant.id) == 0
    done = client.post(INTAKE, json=jobcenter_payload(kreis), headers=_h(headers, "in-flight"))
    assert done.status_code == 201


def test_an_error_is_not_stored_so_the_retry_runs_again(app, client, kreis):
    case = _ready_case(client, kreis)
    url, headers = f"/api/v1/cases/{case['id']}/transitions", _h(kreis.token(kreis.coordinator), "err-1")
    body = {"trigger": "defer", "version": case["version"]}  # not allowed in ready_for_review
    assert client.post(url, json=body, headers=headers).status_code == 409
    assert _count(app, IdempotencyKey, IdempotencyKey.key == "err-1") == 0
    again = client.post(url, json=body, headers=headers)
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers


def test_expired_keys_run_again_and_are_purged(app, client, kreis):
    headers = _h(kreis.token(kreis.intake), "old-key")
    client.post(INTAKE, json=jobcenter_payload(kreis), headers=headers)
    with arrange(app):
        row = db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.key == "old-key"))
        assert row.expires_dt - row.created_dt == idempotency.RETENTION
        row.expires_dt = row.created_dt - timedelta(seconds=1)
    again = client.post(INTAKE, json=_other_family(kreis), headers=headers)  # expired: any body runs again
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert _count(app, Case, Case.tenant_id == kreis.tenant.id) == 2
    with arrange(app):
        row = db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.key == "old-key"))
        assert idempotency.purge_expired(now=row.created_dt + timedelta(hours=1)) == 0
        assert idempotency.purge_expired(now=row.expires_dt) == 1
    assert _count(app, IdempotencyKey, IdempotencyKey.key == "old-key") == 0


@pytest.mark.parametrize("key", ["", "mit leerzeichen", "x" * 256, "ümlaut"])
def test_a_malformed_key_is_refused(app, client, kreis, key):
    response = client.post(INTAKE, json=jobcenter_payload(kreis), headers={**kreis.token(kreis.intake),
                                                                            "Idempotency-Key": key})
    assert response.status_code == 422 and response.json["code"] == "invalid_idempotency_key"
    assert _count(app, Case, Case.tenant_id == kreis.tenant.id) == 0


def test_the_stored_response_is_sealed_and_goes_with_an_erasure(app, client, kreis, now):
    created = client.post(INTAKE, json=jobcenter_payload(kreis), headers=_h(kreis.token(kreis.intake), "seal"))
    with arrange(app):
        row = db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.key == "seal"))
        assert created.json["case_number"].encode() not in row.response_ct
        assert created.json["id"].encode() not in row.response_ct and CANARY_FAMILY.encode() not in row.response_ct
        from praevcase.privacy.erasure import erase_family
        from praevcase.privacy.models import Family

        family = db.session.get(Family, db.session.get(Case, created.json["id"]).family_id)
        erase_family(family, cause="request", requested_by=None, approved_by=None, actor=None, now=now,
                     write_file=False)
    assert _count(app, IdempotencyKey, IdempotencyKey.tenant_id == kreis.tenant.id) == 0


def test_get_requests_and_posts_without_the_header_store_nothing(app, client, kreis):
    headers = kreis.token(kreis.intake)
    assert client.get("/api/v1/cases/", headers=_h(headers, "get-key")).status_code == 200
    assert client.post(INTAKE, json=jobcenter_payload(kreis), headers=headers).status_code == 201
    assert _count(app, IdempotencyKey, IdempotencyKey.tenant_id == kreis.tenant.id) == 0


def test_openapi_documents_the_header_on_every_post(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["parameters"]["IdempotencyKey"]["name"] == "Idempotency-Key"
    posts = {path: ops["post"] for path, ops in spec["paths"].items() if "post" in ops}
    assert posts and all({"$ref": "#/components/parameters/IdempotencyKey"} in op.get("parameters", [])
                         for op in posts.values())


def test_the_scheduler_sweep_purges_expired_keys_and_the_cli_too(app):
    from praevcase.reminders.registry import JOBS

    assert "idempotency.purge" in JOBS
    result = app.test_cli_runner().invoke(args=["idempotency", "purge"])
    assert result.exit_code == 0 and "abgelaufene Idempotency-Keys gelöscht" in result.output
