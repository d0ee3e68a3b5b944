"""SC-06 (continued): the canaries appear neither in PostgreSQL's WAL and data files nor in any log.

tests/praevcase/privacy/test_canary.py greps pg_dump and the in-process log. This check goes below the
SQL level and through real processes: a throwaway cluster of its own (so its WAL holds only this test's
writes; ``log_statement=all`` so the server log carries every statement with its parameters), gunicorn
at ``PRAEVCASE_LOG_LEVEL=DEBUG`` with its access log, and the canaries sent the way production sends
them — an API intake (names, address, a diagnosis in the observation; with an ``Idempotency-Key``, so
the stored response is covered too), the case read back through the API and the dpo's pages
(subject-access report as page and JSON), plus the privacy operations directly (consent with the
child's view). Then ``CHECKPOINT``, and every byte of ``pg_wal/``, of the data files under ``base/``,
of the server log and of the gunicorn log is searched (as text and hex). A positive control — the team
summary, stored in clear on purpose — must be found in the WAL and the data files, so the search
demonstrably sees row data.
"""
from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import psycopg

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.database import utcnow
from tests.scorecard import _serving as srv

NAME, DIAGNOSIS, ADDRESS, STREET_NAME = "Zyxwvutsrq", "Qwertzuiop-Syndrom", "Kanarienweg 7", "Ypsilonia"
BIRTH = ("2019-07-23", "23.07.2019")
CANARIES = [NAME, DIAGNOSIS, ADDRESS, STREET_NAME, *BIRTH]
POSITIVE = "SC06-Positivkontrolle-Teamzusammenfassung"  # written through the API, in clear on purpose
POSITIVE_DIRECT = "SC06-Positivkontrolle-Einwilligungstext"  # a consent template text, in clear


def _count(blob: bytes, needle: str) -> int:
    raw = needle.encode()
    return blob.count(raw) + blob.count(raw.hex().encode()) + blob.count(needle.encode("utf-16-le"))


def _read_tree(root: Path) -> bytes:
    parts = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            parts.append(path.read_bytes())
    return b"".join(parts)


def _store_directly(app, seed) -> None:
    """Through the privacy operations: a second family with a birth date and the child's view."""
    from praevcase.extensions import db
    from praevcase.privacy import operations as ops
    from praevcase.privacy.models import ConsentChannel
    from praevcase.privacy.models import PersonRole
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    k = seed["kreis"]
    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        now = utcnow()
        tenant, jc, ga = (db.session.merge(x) for x in (k.tenant, k.jobcenter, k.gesundheitsamt))
        intake = db.session.merge(k.intake)
        family = ops.create_family(tenant, holder_agency=jc, sozialraum="Nord", actor=intake, now=now)
        ops.add_person(family, role=PersonRole.child, given_name="Mila", family_name=NAME,
                       birth_date=date(2019, 7, 23), now=now)
        mother = ops.add_person(family, role=PersonRole.guardian, given_name="Ina", family_name=NAME,
                                address=f"{ADDRESS}, {STREET_NAME}", has_custody=True, now=now)
        template = ops.create_template(tenant, key="sc06", version=1, language="de", title="Einwilligung",
                                       body=POSITIVE_DIRECT, plain_body="Einfach",
                                       purpose_texts={"team_review": "Fallberatung"}, actor=intake, now=now)
        ops.record_consent(family, template=template, purposes={Purpose.team_review},
                           categories={DataCategory.identity, DataCategory.health}, recipient_agency_ids={ga.id},
                           signatories=[{"person_id": mother.id}], channel=ConsentChannel.written, actor=intake,
                           now=now, child_view=f"Diagnose: {DIAGNOSIS}")
        db.session.commit()


def test_canaries_appear_neither_in_wal_nor_data_files_nor_logs(keyring, tmp_path, scorecard):
    from praevcase.extensions import db
    from tests.praevcase.cases.conftest import jobcenter_payload

    options = "-c fsync=off -c log_statement=all -c wal_keep_size=1GB -c max_wal_size=2GB"  # no WAL recycled
    with srv.throwaway_cluster(options) as cluster:
        url = srv.create_database(cluster.url, "sc_sc06")
        secret = "scorecard-secret-key-not-for-production"  # noqa: S105 - a test's own key
        app = srv.migrated_app(url, keyring, tmp_path, SECRET_KEY=secret)
        seed = srv.seed_cases(app, 1)
        k = seed["kreis"]
        _store_directly(app, seed)
        cookie = srv.session_cookie(app, k.dpo)
        with app.app_context():
            db.engine.dispose()
        env = srv.app_env(url, keyring, tmp_path / "instance", PRAEVCASE_SECRET_KEY=secret,
                          PRAEVCASE_LOG_LEVEL="DEBUG")
        log = tmp_path / "gunicorn.log"
        answers = []
        with srv.gunicorn(env, log, workers=2) as (base, _master):
            intake = {"Authorization": f"Bearer {seed['intake']}"}
            body = jobcenter_payload(k)
            body["children"][0].update(family_name=NAME)
            body["guardians"][0].update(family_name=NAME, address=f"{ADDRESS}, {STREET_NAME}")
            body.update(observation=f"Verdacht auf {DIAGNOSIS}.", team_summary=POSITIVE)
            key = {"Idempotency-Key": str(uuid.uuid4())}
            created = srv.call(base, "POST", "/api/v1/cases/intake/jobcenter", body=body, headers={**intake, **key})
            again = srv.call(base, "POST", "/api/v1/cases/intake/jobcenter", body=body, headers={**intake, **key})
            assert created.status == again.status == 201 and again.headers.get("idempotent-replayed") == "true"
            case = created.json()
            detail = srv.call(base, "GET", f"/api/v1/cases/{case['id']}", headers=intake)
            assert NAME in detail.body.decode()  # the names went out to the caller …
            with psycopg.connect(srv.libpq(url)) as conn:
                family_id = conn.execute("SELECT family_id FROM cases WHERE id = %s", (case["id"],)).fetchone()[0]
            answers += [created, again, detail]
            for path in ["/", "/datenschutz/einwilligungen", f"/datenschutz/familien/{family_id}",
                         f"/datenschutz/familien/{family_id}/auskunft",
                         f"/datenschutz/familien/{family_id}/auskunft.json", "/protokoll/"]:
                answers.append(srv.call(base, "GET", path, headers={"Cookie": cookie}))
                assert answers[-1].status == 200, (path, answers[-1].status)
            assert NAME in answers[-2].body.decode()  # … and to the dpo's subject-access report
        data = Path(cluster.data)
        wal = _read_tree(data / "pg_wal")  # before any checkpoint: every segment written since initdb
        with psycopg.connect(srv.libpq(url), autocommit=True) as conn:
            conn.execute("CHECKPOINT")  # the data files now hold every page
        files = _read_tree(data / "base")
        server_log = (data / "log").read_bytes()
        app_log = log.read_bytes()

    found = {where: {c: _count(blob, c) for c in CANARIES if _count(blob, c)}
             for where, blob in (("wal", wal), ("data_files", files), ("server_log", server_log),
                                 ("gunicorn_log", app_log))}
    positive = {"wal": min(_count(wal, POSITIVE), _count(wal, POSITIVE_DIRECT)),
                "data_files": min(_count(files, POSITIVE), _count(files, POSITIVE_DIRECT))}
    total = sum(sum(v.values()) for v in found.values())
    scorecard("SC-06", "canaries_in_wal", f"{sum(found['wal'].values())},canaries_in_data_files="
              f"{sum(found['data_files'].values())},canaries_in_server_log={sum(found['server_log'].values())},"
              f"canaries_in_gunicorn_log={sum(found['gunicorn_log'].values())},wal_bytes={len(wal)},"
              f"log_bytes={len(server_log) + len(app_log)},positive_control_wal={positive['wal']}")
    # the searches see what they should: row data in WAL and files, statements and requests in the logs
    assert positive["wal"] > 0 and positive["data_files"] > 0
    assert b"INSERT INTO persons" in server_log and b"/api/v1/cases/intake/jobcenter" in app_log
    assert b"DEBUG" in app_log or b"INFO" in app_log
    assert total == 0, found
