"""Micro-benchmarks of the data-protection core, through the app on a real PostgreSQL.

    .venv/bin/python bench/micro_privacy.py [--events 100000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/x]

Prints µs per reveal() of 5 fields (warm and cold family key), µs per audit append (one event per
transaction, and amortised in batches) and audit-chain verification events/s (flask audit verify's
code path). Uses a database of its own (dropped and created; default praevcase_bench_<user>), never
the suite's. No thresholds: the figures go into reports, not into tests.
"""
from __future__ import annotations

import argparse
import getpass
import sys
import tempfile
import time
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIELDS = ["given_name", "family_name", "birth_date", "address", "phone"]


def fresh(url: str) -> str:
    base, _, name = url.rpartition("/")
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://") + "/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return url


def best(fn, repeat: int = 5) -> float:
    return min(fn() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"postgresql+psycopg://postgres@127.0.0.1:5432/praevcase_bench_{getpass.getuser()}")
    parser.add_argument("--events", type=int, default=100_000, help="audit events in the chain to verify")
    parser.add_argument("--reveals", type=int, default=2000)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from consent.crypto import Keyring
    from consent.scopes import Purpose
    from praevcase import create_app
    from praevcase.accounts.models import Role
    from praevcase.audit.operations import append_pending
    from praevcase.audit.operations import record
    from praevcase.audit.verify import verify_app_chains
    from praevcase.extensions import db
    from praevcase.privacy import operations as ops
    from praevcase.privacy.models import PersonRole
    from praevcase.privacy.vault import forget_keys
    from praevcase.privacy.vault import reveal
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from tests.factories import AgencyFactory
    from tests.factories import TenantFactory
    from tests.factories import UserFactory

    tmp = Path(tempfile.mkdtemp(prefix="praevcase-bench-"))
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": fresh(args.url),
                      "KEYRING": Keyring.generate(), "CHECKPOINT_KEY": b"bench-checkpoint-key-of-32-bytes-min",
                      "CHECKPOINT_FILE": str(tmp / "cp.log"), "TOMBSTONE_FILE": str(tmp / "tomb.log"),
                      "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}, "LOG_LEVEL": "WARNING"})
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        set_scope(db.session, ALL_TENANTS)
        tenant = TenantFactory()
        agency = AgencyFactory(tenant=tenant)
        user = UserFactory(agency=agency, roles=[Role.intake])
        family = ops.create_family(tenant, holder_agency=agency, sozialraum=None, actor=user, now=now)
        person = ops.add_person(family, role=PersonRole.guardian, given_name="Ayşe", family_name="Muster",
                                birth_date=date(1990, 1, 2), address="Rurstraße 1, 52349 Düren", phone="0170 1234567",
                                now=now)
        db.session.commit()

        def reveals(cold: bool) -> float:
            n = args.reveals
            started = time.perf_counter()
            for _ in range(n):
                if cold:
                    forget_keys()
                reveal(family, person, FIELDS, actor=user, purpose=Purpose.team_review, now=now)
            elapsed = time.perf_counter() - started
            db.session.info.pop("audit_pending", None)  # measured separately below
            return elapsed / n * 1e6

        warm = best(lambda: reveals(False))
        cold = best(lambda: reveals(True))

        def appends(per_tx: int, transactions: int) -> float:
            started = time.perf_counter()
            for _ in range(transactions):
                for _ in range(per_tx):
                    record(db.session, "bench.append", now=now, actor=user, object_type="bench", details={"n": 1})
                db.session.commit()
            return (time.perf_counter() - started) / (per_tx * transactions) * 1e6

        def append_only(transactions: int) -> float:
            spent = 0.0
            for _ in range(transactions):
                record(db.session, "bench.append", now=now, actor=user, object_type="bench", details={"n": 1})
                started = time.perf_counter()
                append_pending(db.session)  # lock the chain head, chain and insert the row, move the head
                spent += time.perf_counter() - started
                db.session.commit()
            return spent / transactions * 1e6

        only = best(lambda: append_only(300))
        single = best(lambda: appends(1, 300))
        batched = best(lambda: appends(100, 20))

        # a long chain in one tenant, appended in big transactions (not timed), then verified as the CLI does
        existing = 3 + 5 * (300 + 300 + 2000)
        todo = max(0, args.events - existing)
        t0 = now - timedelta(days=30)
        while todo > 0:
            k = min(5000, todo)
            for i in range(k):
                record(db.session, "data.reveal", now=t0 + timedelta(microseconds=i), actor=user, outcome="granted",
                       object_type="persons", object_id=person.id, family_ref=family.id, purpose="team_review",
                       legal_basis="own_agency", details={"fields": FIELDS, "categories": ["contact", "identity"]})
            append_pending(db.session)
            db.session.commit()
            todo -= k
        runs = []
        for _ in range(3):
            report = verify_app_chains(db.session)
            db.session.rollback()
            assert report.intact, [c.result for c in report.broken]
            runs.append((report.events, report.seconds))
        events, seconds = min(runs, key=lambda r: r[1])
        db.engine.dispose()

    print(f"reveal() of 5 fields, family key cached (per request):  {warm:8.1f} µs")
    print(f"reveal() of 5 fields, family key unwrapped each time:   {cold:8.1f} µs")
    print(f"audit append of 1 event (head lock, insert, head update): {only:6.1f} µs")
    print(f"audit append, 1 event per transaction (incl. commit):   {single:8.1f} µs")
    print(f"audit append, amortised over 100 events/transaction:    {batched:8.1f} µs")
    print(f"chain verification through the app: {events} events in {seconds:.2f} s = {events / seconds:,.0f} events/s")
    print(f"(Python {sys.version.split()[0]}; best of 5 runs, verification best of 3)", file=sys.stderr)


if __name__ == "__main__":
    main()
