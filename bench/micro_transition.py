"""µs per case transition: the app's one path (lock, permission, fire(), history, audit) vs a raw UPDATE.

    .venv/bin/python -m bench.micro_transition [--n 2000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/]

Creates (drops first) the database ``praevcase_bench_transition`` on that server, migrates it, loads the
demo tenant, copies its ``ready_for_review`` case into 100 rows and flips them between ``ready_for_review``
and ``on_agenda`` (``put_on_agenda`` / ``defer``) as the demo coordinator, one transition per row per
transaction (so no row is updated twice in one transaction). Measured with a commit every 100 transitions
(the commit, with its audit-chain append, is included) and with a commit after every transition (one request):

- app path: ``operations.lock_case`` (SELECT … FOR UPDATE) + ``operations.fire_case`` → permission check,
  ``workflows.fire()`` with its guards, version bump, history row, audit event (hash-chained at commit)
- fire() only: the pure state machine call on the loaded row, no database
- raw UPDATE: ``UPDATE cases SET state=:to, version=version+1 WHERE id=:id AND state=:from AND version=:v``

Prints µs per transition and the ratio. No assertion: the numbers are for the report.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import psycopg
import sqlalchemy as sa

BATCH = 100
ROWS = 100


def _fresh(url: str, name: str) -> str:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1) + "postgres",
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url + name


def _app(url: str):
    from consent.crypto import Keyring
    from praevcase import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench-secret-key-not-for-production",
                       "SQLALCHEMY_DATABASE_URI": url, "KEYRING": Keyring.generate(),
                       "CHECKPOINT_KEY": b"bench-checkpoint-key-of-32-bytes-or-more", "CHECKPOINT_FILE": os.devnull,
                       "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
                       "LOG_LEVEL": "WARNING"})


def _timed(n: int, step: Callable[[int], None], commit: Callable[[], None], batch: int) -> list[float]:
    """µs per transition for each batch of *batch* transitions (its commit included)."""
    per_batch = []
    for start in range(0, n, batch):
        t0 = time.perf_counter_ns()
        for i in range(start, min(n, start + batch)):
            step(i)
        commit()
        per_batch.append((time.perf_counter_ns() - t0) / 1000 / min(batch, n - start))
    return per_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="transitions per variant (default 2000)")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/",
                        help="server URL ending in /")
    args = parser.parse_args()
    app = _app(_fresh(args.url, "bench_transition"))
    from flask_migrate import upgrade

    from praevcase.accounts.models import User
    from praevcase.cases import operations as ops
    from praevcase.cases.models import Case
    from praevcase.database import utcnow
    from praevcase.demo import load_demo
    from praevcase.extensions import db
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from workflows import WORKFLOWS
    from workflows import fire
    from workflows.case import CaseState

    case_wf = WORKFLOWS["case"]
    flip = {"ready_for_review": ("put_on_agenda", "on_agenda"), "on_agenda": ("defer", "ready_for_review")}
    results: dict[str, float] = {}
    with app.app_context():
        upgrade()
        set_scope(db.session, ALL_TENANTS)
        tenant, _ = load_demo()
        db.session.commit()
        set_scope(db.session, tenant.id)
        actor = db.session.scalar(sa.select(User).where(User.email == "koordination@demo.praevcase.test"))
        source = db.session.scalar(sa.select(Case.id).where(Case.state == CaseState.ready_for_review))
        ids = _copies(db, Case, source, ROWS)
        now = utcnow()

        def app_step(i: int) -> None:
            case = ops.lock_case(ids[i % ROWS], actor)
            ops.fire_case(case, flip[case.state.value][0], actor=actor, now=now, expected_version=case.version)

        update = sa.text("UPDATE cases SET state = :to, version = version + 1 "
                         "WHERE id = :id AND state = :from AND version = :v")
        current: dict = {}

        def raw_step(i: int) -> None:
            row = ids[i % ROWS]
            state, version = current[row]
            done = db.session.execute(update, {"to": flip[state][1], "id": row, "from": state, "v": version})
            assert done.rowcount == 1
            current[row] = [flip[state][1], version + 1]

        for name, step in (("app", app_step), ("raw", raw_step)):
            current.update({i: [st.value, v] for i, st, v in db.session.execute(
                sa.select(Case.id, Case.state, Case.version).where(Case.id.in_(ids)))})
            _timed(ROWS, step, db.session.commit, BATCH)  # warm-up: connections, statement caches, audit chain
            results[name] = statistics.median(_timed(args.n, step, db.session.commit, BATCH))
            results[name + "_1"] = statistics.median(_timed(min(args.n, 500), step, db.session.commit, 1))
        case = ops.lock_case(ids[0], actor)
        results["fire"] = statistics.median(_timed(
            args.n, lambda i: fire(case_wf, case, flip[case.state.value][0], actor=actor, now=now, lotse=None,
                                   closing_reason=None), lambda: None, BATCH))
        db.session.rollback()

    print(f"transitions: {args.n} per variant over {ROWS} rows")
    print("                                                            commit/100   commit each")
    print(f"app path: lock_case + fire_case (transition(), history, audit) {results['app']:8.1f} µs"
          f"  {results['app_1']:8.1f} µs")
    print(f"raw guarded UPDATE                                            {results['raw']:8.1f} µs"
          f"  {results['raw_1']:8.1f} µs")
    print(f"fire() alone on the loaded row, no database                   {results['fire']:8.1f} µs")
    print(f"ratio app path / raw UPDATE: {results['app'] / results['raw']:.1f}x (commit/100), "
          f"{results['app_1'] / results['raw_1']:.1f}x (commit each)")


def _copies(db, case_model, source, n: int) -> list:
    """*n* copies of one case row (same family and consent), new ids, committed."""
    from praevcase.database import new_id

    table = case_model.__table__
    columns = [c.name for c in table.columns if c.name != "id"]
    ids = [new_id() for _ in range(n)]
    for new in ids:
        db.session.execute(sa.insert(table).from_select(
            ["id", *columns], sa.select(sa.literal(new, sa.Uuid()), *[table.c[c] for c in columns])
            .where(table.c.id == source)))
    db.session.commit()
    return ids


if __name__ == "__main__":
    main()
