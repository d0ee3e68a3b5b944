"""SC-13 API fuzzing: Schemathesis generates requests from /api/v1/openapi.json, in-process against the WSGI app.

Every operation of the OpenAPI document is called with data generated from its schema (valid and
invalid), with the API token of each role in turn, half of the time with the path ids swapped for
ids of real objects of the caller's tenant (the demo tenant is loaded, so the 200 answers are
checked too, not only 404s). Checks: no server error, the response matches the documented schema
(body, headers) and content type, ``ignored_auth`` (the operation really needs the token), and once per operation
without any token: 401.

CI runs a few examples per operation; ``pytest -m long tests/scorecard`` runs 100 per operation
and role.
"""
from __future__ import annotations

import itertools
import uuid
from collections import Counter

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import ignored_auth
from schemathesis.specs.openapi.checks import response_headers_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance

from praevcase.accounts.models import User
from praevcase.accounts.tokens import create_token
from praevcase.database import utcnow
from praevcase.demo import LOGINS
from praevcase.extensions import db
from tests.conftest import arrange
from tests.scorecard._committed import committed_app
from tests.scorecard.test_sc01_authz_matrix import PARAM_MODELS

CHECKS = [not_a_server_error, response_schema_conformance, response_headers_conformance, content_type_conformance,
          ignored_auth]
SPEC = "/api/v1/openapi.json"



@pytest.fixture
def app(keyring):
    """Thousands of requests: on a database of their own, committed (tests/scorecard/_committed.py)."""
    with committed_app(keyring, "sc13") as app:
        yield app

def _seed(app):
    """The demo tenant; one API token per role; real ids of every kind the API takes in its paths."""
    from praevcase.demo import load_demo

    with arrange(app):
        tenant, _ = load_demo()
        db.session.flush()
        tokens = {}
        for login in LOGINS:
            if login.role.value in tokens:
                continue
            user = db.session.scalar(sa.select(User).where(User.email == login.email))
            _, plaintext = create_token(user, name="sc13", scopes=set(user.roles), now=utcnow())
            tokens[login.role.value] = f"Bearer {plaintext}"
        ids = {}
        for param, models in PARAM_MODELS.items():
            rows = [r.id for m in models for r in db.session.scalars(sa.select(m).where(m.tenant_id == tenant.id)
                                                                     .limit(3))]
            if rows:
                ids[param] = [str(x) for x in rows]
    return tokens, ids


def _summary(e: BaseException) -> str:
    parts = getattr(e, "exceptions", None) or [e]
    return "; ".join(f"{type(x).__name__}: {str(x).splitlines()[0] if str(x) else ''}" for x in parts)


def _describe(case, role, response, error) -> str:
    return f"{case.operation.label} as {role}: {response.status_code if response is not None else '-'} {error}"[:400]


def _fuzz(app, scorecard, *, examples: int, every_role: bool, check: str) -> None:
    tokens, ids = _seed(app)
    roles = sorted(tokens)
    schema = schemathesis.openapi.from_wsgi(SPEC, app)
    operations = [r.ok() for r in schema.get_all_operations()]
    failures: list[str] = []
    unauthenticated_ok: list[str] = []
    stats: Counter[str] = Counter()
    anonymous = app.test_client()
    document = anonymous.get(SPEC).json
    for operation in operations:
        # 0 endpoints reachable without a token (the OpenAPI document itself is public)
        path = operation.path
        for param in document["paths"][operation.path].get("parameters", []):
            if param["in"] == "path":
                value = ids.get(param["name"], param["schema"].get("enum") or [str(uuid.uuid4())])[0]
                path = path.replace("{" + param["name"] + "}", value)
        response = anonymous.open(path, method=operation.method.upper(), json={} if operation.method != "get" else None)
        stats["unauthenticated"] += 1
        if response.status_code != 401:
            unauthenticated_ok.append(f"{operation.label}: {response.status_code} without a token")
        turn = itertools.count()

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            n = next(turn)  # noqa: B023 - run() is called right below, in this iteration
            for role in (roles if every_role else [roles[n % len(roles)]]):
                for with_real_ids in (n % 2 == 1,):
                    if with_real_ids:
                        for name in list(case.path_parameters or {}):
                            if name in ids:
                                case.path_parameters[name] = ids[name][n % len(ids[name])]
                    headers = {"Authorization": tokens[role]}
                    response = None
                    try:
                        response = case.call(headers=headers)
                        stats["requests"] += 1
                        stats[f"status_{response.status_code // 100}xx"] += 1
                        case.validate_response(response, checks=CHECKS, headers=headers)
                    except (AssertionError, Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - all are findings
                        failures.append(_describe(case, role, response, _summary(e)))

        run()
    assert not unauthenticated_ok, "\n".join(unauthenticated_ok)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
    server_errors = stats["status_5xx"]
    scorecard(check, "operations", f"{len(operations)},roles={len(roles)},requests={stats['requests']},"
              f"server_errors={server_errors},schema_violations=0,reachable_without_auth=0")


def test_sc13_generated_requests_per_role_get_no_server_error_and_match_the_openapi_schema(app, scorecard):
    _fuzz(app, scorecard, examples=8, every_role=False, check="SC-13")


@pytest.mark.long
def test_sc13_long_run_100_examples_per_operation_and_every_role(app, scorecard):
    _fuzz(app, scorecard, examples=100, every_role=True, check="SC-13-long")


def test_sc13_finding_a_page_far_past_the_end_of_a_list_is_empty_not_a_server_error(app):
    """Found by the long run: ?page=99999999999999999999 overflowed the database's bigint OFFSET (500)."""
    tokens, _ = _seed(app)
    client = app.test_client()
    for path in ("/api/v1/agencies/", "/api/v1/cases/"):
        for page in ("9223372036854775807", "99999999999999999999"):
            response = client.get(f"{path}?page={page}&page_size=100", headers={"Authorization": tokens["coordinator"]})
            assert (response.status_code, response.json) == (200, []), (path, page)


def test_sc13_finding_a_nul_character_in_any_text_input_is_invalid_input_not_a_server_error(app):
    """Found by the long run: ?q=%00 on /api/v1/offers/ reached PostgreSQL ('text cannot contain NUL': 500)."""
    tokens, _ = _seed(app)
    client = app.test_client()
    headers = {"Authorization": tokens["coordinator"]}
    response = client.get("/api/v1/offers/?q=a%00b", headers=headers)
    assert response.status_code == 422 and response.json["errors"] == {"q": ["Ungültiger Text."]}
    response = client.post("/api/v1/agencies/", json={"name": "x\u0000y"}, headers={"Authorization": tokens["admin"]})
    assert response.status_code == 422 and response.json["errors"]["name"] == ["Ungültiger Text."]
