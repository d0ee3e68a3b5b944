"""Time to build the agenda of a Schnittstellengespräch from N cases ready for review (default 1,000).

    .venv/bin/python -m bench.agenda_scale [--n 1000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/]

Creates (drops first) the database ``praevcase_bench_agenda`` on that server, migrates it, loads the demo
tenant and opens N Jobcenter cases through the intake operation (each family with its own key, sealed
persons and a consent naming the team), so all N wait in ``ready_for_review``. Then, as the demo
coordinator, ``praevcase.sessions.agenda.build_agenda`` puts them on the agenda of a new session — one
locking SELECT, one consent query, N ``put_on_agenda`` transitions (guard, permission, history row, audit
event) and N agenda items — and the transaction is committed (the audit-chain append included).

Prints the wall time of build + commit, ms per case and the number of SQL statements. No assertion:
the figure is for the report.
"""
from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine


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


def _payload(i: int, template_id: str, recipients: list[str]) -> dict:
    from praevcase.database import utcnow

    today = utcnow().date()
    return {
        "children": [{"given_name": f"Kind{i}", "family_name": f"Bench{i}",
                      "birth_date": (today - timedelta(days=5 * 365 + i % 300)).isoformat()}],
        "guardians": [{"given_name": f"Elter{i}", "family_name": f"Bench{i}", "has_custody": True}],
        "needs": ["kita_platz", "sprachfoerderung"], "beyond_own_remit": True,
        "team_summary": "Kind, 5 Jahre, ohne Kita-Platz, spricht kein Deutsch.",
        "observed_on": today.isoformat(), "child_has_daycare": "nein", "german_language": "keine",
        "family_language": "Arabisch", "interpreter_needed": True,
        "consent": {"status": "given", "template_id": template_id, "purposes": ["team_review", "lotse_support"],
                    "categories": ["identity", "contact", "family_situation", "case_notes"],
                    "recipient_agency_ids": recipients, "channel": "written"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="cases ready for review (default 1000)")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/",
                        help="server URL ending in /")
    args = parser.parse_args()
    app = _app(_fresh(args.url, "praevcase_bench_agenda"))
    from flask_migrate import upgrade

    from praevcase.accounts.models import User
    from praevcase.cases import operations as case_ops
    from praevcase.cases.catalogue import IntakeChannel
    from praevcase.cases.demo import TEMPLATE_KEY
    from praevcase.cases.models import Case
    from praevcase.cases.schemas import JobcenterIntakeIn
    from praevcase.database import utcnow
    from praevcase.demo import load_demo
    from praevcase.extensions import db
    from praevcase.privacy.models import ConsentTemplate
    from praevcase.sessions import agenda
    from praevcase.sessions import operations as ops
    from praevcase.sessions.models import AgendaItem
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from praevcase.tenants.models import Agency
    from workflows.case import CaseState

    with app.app_context():
        upgrade()
        set_scope(db.session, ALL_TENANTS)
        tenant, _ = load_demo()
        db.session.commit()
        set_scope(db.session, tenant.id)
        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        intake, chair = users["erstkontakt@demo.praevcase.test"], users["koordination@demo.praevcase.test"]
        template = db.session.scalar(sa.select(ConsentTemplate).where(ConsentTemplate.key == TEMPLATE_KEY))
        recipients = [str(a.id) for a in db.session.scalars(sa.select(Agency).where(Agency.name.in_(
            ["Präventionsbüro Kreis Düren", "Gesundheitsamt Kreis Düren"])))]
        schema = JobcenterIntakeIn()
        t0 = time.perf_counter()
        for i in range(args.n):
            data = schema.load(_payload(i, str(template.id), recipients))
            case_ops.open_case(tenant, IntakeChannel.jobcenter_observation, data, JobcenterIntakeIn.ANSWER_FIELDS,
                               actor=intake, now=utcnow())
            if i % 100 == 99:
                db.session.commit()
        db.session.commit()
        ready = db.session.scalar(sa.select(sa.func.count()).select_from(Case)
                                  .where(Case.state == CaseState.ready_for_review))
        print(f"opened {args.n} cases in {time.perf_counter() - t0:.1f} s; ready for review: {ready}")
        tenant_id, chair_id = tenant.id, chair.id
        db.session.expunge_all()  # the build starts from a cold session, as a request would

        from praevcase.tenants.models import Tenant

        tenant = db.session.get(Tenant, tenant_id)
        chair = db.session.get(User, chair_id)
        session = ops.create_session(tenant, {"day": (utcnow() + timedelta(days=21)).date(),
                                              "start_time": utcnow().replace(hour=14, minute=0).time(),
                                              "duration_minutes": 120, "place": "Präventionsbüro"},
                                     actor=chair, now=utcnow())
        db.session.commit()
        statements = []
        listener = lambda *a: statements.append(1)  # noqa: E731
        event.listen(Engine, "before_cursor_execute", listener)
        t0 = time.perf_counter()
        added = agenda.build_agenda(ops.lock_session(session.id), actor=chair, now=utcnow())
        built = time.perf_counter() - t0
        db.session.commit()
        total = time.perf_counter() - t0
        event.remove(Engine, "before_cursor_execute", listener)
        items = db.session.scalar(sa.select(sa.func.count()).select_from(AgendaItem))
    print(f"agenda build: {added} cases put on the agenda ({items} items) in {total:.2f} s "
          f"= {1000 * total / max(added, 1):.2f} ms per case (build {built:.2f} s + commit {total - built:.2f} s), "
          f"{len(statements)} SQL statements")


if __name__ == "__main__":
    main()
