"""How long a reminder sweep takes as the data grows: ``python -m bench.sweep_scale``.

For each size it builds a fresh PostgreSQL database (migrated to head) with N open Ü1 protocols
(one family and child each) and N active consents, of which D protocols are inside their handover
corridor and D/10 consents are about to expire. It then times, on a frozen clock:

- sweep 1: validity pass, due-queries, creating the reminders and queuing the e-mails;
- sweep 2: the steady state (every due item is found again and creates nothing);
- deliver: sending the queued e-mails one claimed row per transaction (to a null transport);

and shows the plan of the Ü1 due-query, so one sees the partial index at work. The figures
are printed; no assertion is made on them.

Options: ``--sizes 10000,100000 --due 1000`` (N values, D), ``--due-sizes 100,1000,10000``
(D values at the largest N), ``--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres``.
"""
from __future__ import annotations

import argparse
import os
import secrets
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import psycopg
import sqlalchemy as sa

DEFAULT_SERVER = os.environ.get("PRAEVCASE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2027, 5, 1, 8, tzinfo=UTC)  # inside the Ü1 handover corridor of school year 2027
DUE_YEAR = 2027


class NullTransport:
    def send(self, mail):  # noqa: D102 - the e-mail goes nowhere; we time the outbox, not SMTP
        pass


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _fresh_database(server: str, name: str) -> str:
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rpartition('/')[0]}/{name}"


def _drop_database(server: str, name: str) -> None:
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _app(url: str):
    from consent.crypto import Keyring
    from praevcase import create_app

    return create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(16), "SQLALCHEMY_DATABASE_URI": url,
                       "KEYRING": Keyring.generate(), "CHECKPOINT_KEY": secrets.token_bytes(32),
                       "CHECKPOINT_FILE": os.devnull, "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024,
                                                                         "parallelism": 1}})


def _populate(app, n: int, due: int) -> None:
    """N protocols (D due) and N consents (D/10 expiring), inserted in bulk with SQL."""
    from flask_migrate import upgrade

    from praevcase.accounts.models import Role
    from praevcase.accounts.operations import create_user
    from praevcase.extensions import db
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from praevcase.tenants.models import AgencyKind
    from praevcase.tenants.operations import create_agency
    from praevcase.tenants.operations import create_tenant
    from praevcase.transitions.models import ProtocolKind
    from praevcase.transitions.operations import ensure_consent_template

    with app.app_context():
        upgrade()
        set_scope(db.session, ALL_TENANTS)
        tenant = create_tenant(slug="bench", name="Bench", case_prefix="BN", now=NOW)
        set_scope(db.session, tenant.id)
        kita = create_agency(tenant, name="Kita Bench", kind=AgencyKind.kita, sozialraum=None, actor=None, now=NOW)
        user = create_user(tenant=tenant, agency=kita, email="kita@bench.test", display_name="Kita",
                           roles={Role.school_staff}, password=secrets.token_urlsafe(16), actor=None, now=NOW)
        template = ensure_consent_template(tenant, ProtocolKind.u1, actor=user, now=NOW)
        params = {"t": tenant.id, "a": kita.id, "u": user.id, "tpl": template.id, "n": n, "d": due,
                  "dc": max(due // 10, 1), "y": DUE_YEAR, "now": NOW}
        for statement in (
            """INSERT INTO families (id, tenant_id, case_number, holder_agency_id, wrapped_key, kek_id, dek_version,
                                     created_dt)
               SELECT gen_random_uuid(), :t, 'BN-2026-' || lpad(i::text, 7, '0'), :a, '\\x00'::bytea, 'bench', 1, :now
               FROM generate_series(1, :n) i""",
            """INSERT INTO persons (id, tenant_id, family_id, role, has_custody, birth_year, created_dt)
               SELECT gen_random_uuid(), :t, id, 'child', false, 2021, :now FROM families WHERE tenant_id = :t""",
            # D protocols in the corridor of the due year, the others spread over later school years
            """INSERT INTO u1_protocols (id, tenant_id, state, deferrals, family_id, child_id, author_agency_id,
                                         sender_agency_id, school_year, updated_dt, created_dt, version)
               SELECT gen_random_uuid(), :t, 'draft', 0, family_id, id, :a, :a,
                      CASE WHEN rn <= :d THEN :y ELSE :y + 1 + rn % 5 END, :now, :now, 1
               FROM (SELECT family_id, id, row_number() OVER (ORDER BY id) AS rn
                     FROM persons WHERE tenant_id = :t) p""",
            """INSERT INTO consent_records (id, tenant_id, family_id, template_id, purposes, categories,
                                            recipient_agency_ids, signatories, channel, obtained_by_id,
                                            obtained_agency_id, obtained_dt, valid_from, valid_until, state, version)
               SELECT gen_random_uuid(), :t, id, :tpl, '["transition_u1"]', '["education"]', '[]', '[]', 'written',
                      :u, :a, :now, :now - interval '1 day',
                      CASE WHEN rn <= :dc THEN :now + interval '10 days' ELSE :now + interval '400 days' END,
                      'active', 1
               FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM families WHERE tenant_id = :t) f""",
        ):
            db.session.execute(sa.text(statement), params)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def _plan(app) -> str:
    """The plans of the two reads of the Ü1 due-query: its partial index, then the families by key."""
    from praevcase.extensions import db

    explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
    with app.app_context():
        tenant = db.session.execute(sa.text("SELECT id FROM tenants LIMIT 1")).scalar_one()
        # the tenant id (a UUID read above) as a literal: the plan the app's query gets for its value
        due = (f"SELECT id, family_id FROM u1_protocols WHERE tenant_id = '{tenant}' "  # noqa: S608
               "AND state IN ('draft', 'ready', 'deferred') AND school_year IN (2027)")
        plans = db.session.execute(sa.text(explain + due)).scalars().all()
        ids = [str(r.family_id) for r in db.session.execute(sa.text(due))][:100]  # one chunk of case_numbers()
        plans += db.session.execute(sa.text(
            explain + "SELECT id, case_number FROM families WHERE erased_dt IS NULL AND id = ANY(:ids)"),
            {"ids": ids}).scalars().all()
    return "\n".join(f"    {r[:150]}{' …' if len(r) > 150 else ''}" for r in plans)


def _measure(server: str, n: int, due: int, *, plan: bool) -> dict[str, float]:
    from praevcase.extensions import db
    from praevcase.reminders.jobs import run_deliver
    from praevcase.reminders.jobs import run_sweep

    name = f"praevcase_bench_sweep_{os.getpid()}"
    url = _fresh_database(server, name)
    try:
        app = _app(url)
        started = time.perf_counter()
        _populate(app, n, due)
        built = time.perf_counter() - started
        figures: dict[str, float] = {"n": n, "due": due, "build_s": built}
        with app.app_context():
            t0 = time.perf_counter()
            first = run_sweep(now=NOW)
            t1 = time.perf_counter()
            second = run_sweep(now=NOW + timedelta(minutes=1))
            t2 = time.perf_counter()
            sent = run_deliver(now=NOW + timedelta(minutes=1), transport=NullTransport())
            t3 = time.perf_counter()
            db.session.remove()
        figures.update(sweep1_ms=(t1 - t0) * 1000, sweep2_ms=(t2 - t1) * 1000, deliver_ms=(t3 - t2) * 1000,
                       created=first.created, created_again=second.created, sent=sent)
        if plan:
            figures["plan"] = _plan(app)  # type: ignore[assignment]
        with app.app_context():
            db.engine.dispose()
        return figures
    finally:
        _drop_database(server, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--sizes", default="10000,100000", help="N values (open protocols, and as many consents)")
    parser.add_argument("--due", type=int, default=1000, help="D: due protocols per size")
    parser.add_argument("--due-sizes", default="100,1000,10000", help="D values at the largest N")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    dues = [int(x) for x in args.due_sizes.split(",")]
    runs = [(n, args.due) for n in sizes] + [(sizes[-1], d) for d in dues if d != args.due]
    header = (f"{'open N':>8} {'due D':>6} {'+cons.':>6} {'created':>8} {'again':>6} {'sweep 1 ms':>11} "
              f"{'sweep 2 ms':>11} {'ms/due':>7} {'deliver ms':>11} {'ms/mail':>8} {'build s':>8}")
    print(header)
    print("-" * len(header))
    plan = None
    for n, due in runs:
        f = _measure(args.server, n, due, plan=plan is None and n == max(sizes))
        plan = plan or f.pop("plan", None)
        reminders = f["created"]
        print(f"{n:>8} {due:>6} {max(due // 10, 1):>6} {reminders:>8} {f['created_again']:>6} "
              f"{f['sweep1_ms']:>11.0f} {f['sweep2_ms']:>11.0f} {f['sweep1_ms'] / reminders:>7.2f} "
              f"{f['deliver_ms']:>11.0f} {f['deliver_ms'] / max(f['sent'], 1):>8.2f} {f['build_s']:>8.1f}",
              flush=True)
    if plan:
        print("\nplans of the Ü1 handover due-query (largest N):\n" + plan)


if __name__ == "__main__":
    main()
