"""Dashboard time at 1 M cases: bulk-load a scratch database, time every report query, show the plans.

    .venv/bin/python -m bench.dashboard_scale [--cases 1000000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/]
                                              [--phases with,without] [--explain] [--keep|--reuse]

Creates (drops first) the database ``praevcase_bench_dashboard`` with tests/pg.py ``fresh_database``, runs the
migrations, and loads with ``generate_series`` SQL: one large tenant ("Kreis Bench") with ``--cases`` cases
over five years (2021–2025) and their families, a neighbour tenant with a tenth of that (its rows must never be
read), the transition history the reports read (submit, confirm_consent, put_on_agenda, assign_lotse, close:
about four rows per case), monthly held sessions with the cases put on their agenda, one referral per supported
case and the Lotse's first two contacts. Families carry a dummy wrapped key; the reports never decrypt anything.

Then, as the coordinator of the large tenant, it times (median of 5 warm runs) every table of the report pages
through the same code the web pages use (``praevcase.reports.compose``: aggregate SQL + suppression), for a
year, a half-year and a filtered half-year, and whole pages, first with the indexes the reports migration adds
and then without them (``--phases``), each followed by the execution time of
every statement of the Fallfluss and Lückenanalyse pages and the indexes its plan uses (``--explain``: the full
``EXPLAIN (ANALYZE, BUFFERS)``). The database is dropped at the end unless ``--keep``; ``--reuse`` measures a
kept one again without loading. The load average and a CPU baseline are printed first: on a shared machine the
figures scale with them.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from contextlib import contextmanager

import sqlalchemy as sa

NAME = "praevcase_bench_dashboard"
SOZIALRAEUME = ["Altstadt", "Nordviertel", "Südstadt", "Ost", "West", "Am Bach", "Rurufer", "Birkesdorf",
                "Mariaweiler", "Gürzenich", "Lendersdorf", "Arnoldsweiler"]
CHANNELS = ["jobcenter_observation", "birth_clinic_screening", "kita_entry_exam", "famos_midwife",
            "welcome_visit", "familienbuero", "school_entry_exam", "u_exam_feedback", "family_centre",
            "school_social_work", "outreach", "self_referral"]
AGE_PHASES = ["schwangerschaft_geburt", "kita", "grundschule", "jugendphase"]
NEEDS = ["kita_platz", "sprachfoerderung", "gesundheit", "erziehung", "psychosoziale_belastung",
         "materielle_lage", "wohnen", "bildung", "teilhabe", "sonstiges"]
REASONS = ["goals_met", "handed_to_regular_system", "family_declined", "moved", "consent_withdrawn", "other"]
#: Indexes added by the reports migration (dropped with --without-report-indexes)
REPORT_INDEXES = ("ix_reports_cases_tenant_created", "ix_reports_history_tenant_trigger_occurred",
                  "ix_reports_referrals_tenant_created", "ix_reports_contacts_tenant_date")


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def _app(url: str):
    from consent.crypto import Keyring
    from praevcase import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench-secret-key-not-for-production",
                       "SQLALCHEMY_DATABASE_URI": url, "KEYRING": Keyring.generate(),
                       "CHECKPOINT_KEY": b"bench-checkpoint-key-of-32-bytes-or-more", "CHECKPOINT_FILE": os.devnull,
                       "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
                       "LOG_LEVEL": "WARNING"})


def _tenant(name: str, slug: str, prefix: str):
    """A tenant with its agencies and the users the generated rows point at (ORM, a handful of rows)."""
    from praevcase.accounts.models import Role
    from praevcase.accounts.models import User
    from praevcase.accounts.models import UserRole
    from praevcase.database import new_id
    from praevcase.database import utcnow
    from praevcase.extensions import db
    from praevcase.keys import new_wrapped_tenant_key
    from praevcase.tenants.models import Agency
    from praevcase.tenants.models import AgencyKind
    from praevcase.tenants.models import Tenant
    from praevcase.tenants.settings import effective_settings

    now = utcnow()
    tid = new_id()
    tenant = Tenant(id=tid, slug=slug, name=name, case_prefix=prefix, created_dt=now,
                    settings=effective_settings({"sozialraeume": SOZIALRAEUME}),
                    wrapped_key=new_wrapped_tenant_key(tid))
    db.session.add(tenant)
    db.session.flush()
    kinds = [AgencyKind.jobcenter, AgencyKind.geburtsklinik, AgencyKind.gesundheitsamt, AgencyKind.familienbuero,
             AgencyKind.kita, AgencyKind.grundschule, AgencyKind.jugendamt, AgencyKind.praeventionsbuero]
    agencies = [Agency(id=new_id(), tenant_id=tid, name=f"{k.value.title()} {prefix}", kind=k, created_dt=now,
                       sozialraum=SOZIALRAEUME[n % len(SOZIALRAEUME)]) for n, k in enumerate(kinds)]
    db.session.add_all(agencies)
    db.session.flush()
    users = {}
    for key, role, agency in (("intake", Role.intake, agencies[0]), ("confirm", Role.intake, agencies[1]),
                              ("coordinator", Role.coordinator, agencies[-1]),
                              ("lotse", Role.team_member, agencies[3])):
        user = User(id=new_id(), tenant_id=tid, agency_id=agency.id, email=f"{key}@{slug}.bench",
                    display_name=key, password_hash="x", created_dt=now)  # noqa: S106 - nobody signs in
        user.role_rows = [UserRole(role=role, tenant_id=tid)]
        db.session.add(user)
        users[key] = user
    db.session.flush()
    return tenant, agencies, users


def _load(conn, tenant, agencies, users, n: int, seed: str) -> None:
    """Families, cases and their history for *tenant*, all in SQL."""
    params = {"t": tenant.id, "n": n, "seed": seed, "intake": users["intake"].id, "confirm": users["confirm"].id,
              "coordinator": users["coordinator"].id, "lotse": users["lotse"].id}
    agency_ids = "ARRAY[" + ", ".join(f"'{a.id}'::uuid" for a in agencies[:6]) + "]"
    conn.execute(sa.text(f"""
        INSERT INTO families (id, tenant_id, created_dt, case_number, sozialraum, holder_agency_id, wrapped_key,
                              kek_id, dek_version)
        SELECT md5(:seed || 'f' || g)::uuid, :t, timestamptz '2021-01-01' + (g * interval '157 seconds'),
               '{tenant.case_prefix}-' || (2021 + g * 5 / :n) || '-' || lpad(g::text, 7, '0'),
               CASE WHEN g % 50 = 0 THEN NULL
                    ELSE ({_sql_array(SOZIALRAEUME)})[1 + (g * 7 + g / 13) % {len(SOZIALRAEUME)}] END,
               ({agency_ids})[1 + g % 6], '\\x00'::bytea, 'bench', 1
        FROM generate_series(0, :n - 1) AS g
    """), params)  # noqa: S608 - built from the module's constant lists and generated ids
    # state by g % 100: 2 draft, 5 consent_pending, 5 ready, 3 on_agenda, 15 in_support, 70 closed
    conn.execute(sa.text(f"""
        INSERT INTO cases (id, tenant_id, created_dt, family_id, channel, origin_agency_id, opened_by_id, state,
                           version, age_phase, needs, team_summary, four_eyes_required, intake_confirmed_by_id,
                           intake_confirmed_dt, reached_team_dt, lotse_user_id, lotse_assigned_dt, closing_reason,
                           closed_dt, possible_duplicate_family_ids, reviewed_dt, first_lotse_dt)
        SELECT md5(:seed || 'c' || g)::uuid, :t, c.created, md5(:seed || 'f' || g)::uuid, c.channel,
               ({agency_ids})[1 + g % 6], :intake, c.state, 1,
               CASE WHEN g % 40 = 0 THEN NULL ELSE ({_sql_array(AGE_PHASES)})[1 + (g / 3) % 4] END,
               json_build_array(({_sql_array(NEEDS)})[1 + g % 10], ({_sql_array(NEEDS)})[1 + (g / 10) % 10]),
               'ohne Namen', c.channel = 'birth_clinic_screening',
               CASE WHEN c.channel = 'birth_clinic_screening' THEN CAST(:confirm AS uuid) END,
               CASE WHEN c.channel = 'birth_clinic_screening' THEN c.created + interval '1 day' END,
               CASE WHEN c.state NOT IN ('draft', 'consent_pending') THEN c.created + interval '5 days' END,
               CASE WHEN c.state IN ('in_support', 'closed') THEN CAST(:lotse AS uuid) END,
               CASE WHEN c.state IN ('in_support', 'closed') THEN c.created + (20 + g % 40) * interval '1 day' END,
               CASE WHEN c.state = 'closed' THEN ({_sql_array(REASONS)})[1 + g % 6] END,
               CASE WHEN c.state = 'closed' THEN c.created + (120 + g % 200) * interval '1 day' END,
               '[]'::json,
               -- the milestones fire_case sets: assign_lotse is the review decision here
               CASE WHEN c.state IN ('in_support', 'closed') THEN c.created + (20 + g % 40) * interval '1 day' END,
               CASE WHEN c.state IN ('in_support', 'closed') THEN c.created + (20 + g % 40) * interval '1 day' END
        FROM generate_series(0, :n - 1) AS g
        CROSS JOIN LATERAL (SELECT
            timestamptz '2021-01-01' + (g * (interval '1826 days' / :n)) AS created,
            ({_sql_array(CHANNELS)})[1 + (g::bigint * g) % 12] AS channel,
            CASE WHEN g % 100 < 2 THEN 'draft' WHEN g % 100 < 7 THEN 'consent_pending'
                 WHEN g % 100 < 12 THEN 'ready_for_review' WHEN g % 100 < 15 THEN 'on_agenda'
                 WHEN g % 100 < 30 THEN 'in_support' ELSE 'closed' END AS state) AS c
    """), params)  # noqa: S608 - built from the module's constant lists and generated ids
    conn.execute(sa.text("""
        INSERT INTO transition_history (id, tenant_id, workflow, object_id, trigger, from_state, to_state, actor_id,
                                        occurred_dt)
        SELECT md5(:seed || 'h' || c.id || s.n)::uuid, c.tenant_id, 'case', c.id, s.trigger, s.from_state,
               s.to_state, :coordinator, CASE s.n WHEN 1 THEN c.created_dt + interval '1 hour'
                                                  WHEN 2 THEN c.reached_team_dt
                                                  WHEN 3 THEN c.reached_team_dt + interval '9 days'
                                                  WHEN 4 THEN c.lotse_assigned_dt
                                                  ELSE c.closed_dt END
        FROM cases c
        JOIN (VALUES (1, 'submit', 'draft', 'consent_pending', 1),
                     (2, 'confirm_consent', 'consent_pending', 'ready_for_review', 2),
                     (3, 'put_on_agenda', 'ready_for_review', 'on_agenda', 3),
                     (4, 'assign_lotse', 'on_agenda', 'in_support', 4),
                     (5, 'close', 'in_support', 'closed', 5)) AS s(n, trigger, from_state, to_state, depth)
          ON s.depth <= CASE c.state WHEN 'draft' THEN 0 WHEN 'consent_pending' THEN 1 WHEN 'ready_for_review' THEN 2
                                     WHEN 'on_agenda' THEN 3 WHEN 'in_support' THEN 4 ELSE 5 END
        WHERE c.tenant_id = :t
    """), params)


def _load_support(conn, tenant, users, seed: str) -> None:
    """Held monthly sessions with the cases put on their agenda, one referral per supported case, and
    the Lotse's first two contacts (the sources of the support-phase tables)."""
    params = {"t": tenant.id, "seed": seed, "coordinator": users["coordinator"].id, "lotse": users["lotse"].id}
    conn.execute(sa.text("""
        INSERT INTO review_sessions (id, tenant_id, created_dt, starts_dt, ends_dt, place, agenda_cutoff_dt, state,
                                    held_dt, ical_uid, ical_sequence, version)
        SELECT md5(:seed || 's' || m)::uuid, :t, m - interval '30 days', m + interval '13 days 13 hours',
               m + interval '13 days 15 hours', 'Präventionsbüro', m + interval '6 days', 'held',
               m + interval '13 days 15 hours', md5(:seed || 's' || m), 0, 1
        FROM generate_series(timestamptz '2021-01-01', timestamptz '2026-12-01', interval '1 month') AS m
    """), params)
    conn.execute(sa.text("""
        INSERT INTO agenda_items (id, tenant_id, session_id, case_id, position, added_dt)
        SELECT md5(:seed || 'a' || h.object_id)::uuid, :t,
               md5(:seed || 's' || date_trunc('month', h.occurred_dt))::uuid, h.object_id,
               row_number() OVER (PARTITION BY date_trunc('month', h.occurred_dt) ORDER BY h.object_id), h.occurred_dt
        FROM transition_history h
        WHERE h.tenant_id = :t AND h.workflow = 'case' AND h.trigger = 'put_on_agenda'
    """), params)
    types = _sql_array(["sprachfoerderung", "kita_platz", "erziehungsberatung", "fruehe_hilfen", "familienbildung",
                        "therapie", "lernfoerderung", "freizeit"])
    conn.execute(sa.text(f"""
        INSERT INTO referrals (id, tenant_id, created_dt, case_id, offer_type, provider_name, state, requested_dt,
                               started_dt, ended_dt, version)
        SELECT md5(:seed || 'r' || c.id)::uuid, :t, c.lotse_assigned_dt + interval '1 day', c.id,
               ({types})[1 + abs(hashtext(c.id::text)) % 8], r.provider, r.state,
               CASE WHEN r.state IN ('requested', 'waitlisted', 'started', 'completed', 'dropped')
                    THEN c.lotse_assigned_dt + interval '5 days' END,
               CASE WHEN r.state IN ('started', 'completed', 'dropped')
                    THEN c.lotse_assigned_dt + interval '20 days' END,
               CASE WHEN r.state = 'completed' THEN c.lotse_assigned_dt + interval '260 days'
                    WHEN r.state = 'dropped' THEN c.lotse_assigned_dt + interval '60 days'
                    WHEN r.state = 'declined' THEN c.lotse_assigned_dt + interval '3 days' END, 1
        FROM cases c
        CROSS JOIN LATERAL (SELECT CASE abs(hashtext(c.id::text)) % 10 WHEN 0 THEN 'proposed' WHEN 1 THEN 'declined'
                                        WHEN 2 THEN 'waitlisted' WHEN 3 THEN 'dropped' WHEN 4 THEN 'started'
                                        WHEN 5 THEN 'started' ELSE 'completed' END AS state,
                                   'Träger' AS provider) AS r
        WHERE c.tenant_id = :t AND c.lotse_assigned_dt IS NOT NULL
    """), params)  # noqa: S608 - built from the module's constant lists
    conn.execute(sa.text("""
        INSERT INTO lotse_contacts (id, tenant_id, created_dt, case_id, author_id, contact_date, setting)
        SELECT md5(:seed || 'k' || c.id || n)::uuid, :t, c.lotse_assigned_dt + n * interval '9 days', c.id, :lotse,
               (c.lotse_assigned_dt + n * interval '9 days')::date, 'home'
        FROM cases c CROSS JOIN generate_series(1, 2) AS n
        WHERE c.tenant_id = :t AND c.lotse_assigned_dt IS NOT NULL
    """), params)
    conn.execute(sa.text("""
        UPDATE cases SET first_contact_on = (lotse_assigned_dt + interval '9 days')::date
        WHERE tenant_id = :t AND lotse_assigned_dt IS NOT NULL
    """), params)  # the milestone log_contact sets


@contextmanager
def _captured(engine):
    statements: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def _time(fn, repeat: int = 5) -> float:
    fn()  # warm: plans, caches, vocabulary
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def _explain(conn, statement: str, parameters) -> tuple[float, list[str], str]:
    plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)]
    ms = float(re.search(r"Execution Time: ([\d.]+) ms", plan[-1]).group(1))
    pattern = r"(?:Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)"
    indexes = sorted(set(re.findall(pattern, "\n".join(plan))))
    scans = sorted(set(re.findall(r"Seq Scan on (\w+)", "\n".join(plan))))
    return ms, indexes + [f"Seq Scan {s}" for s in scans], "\n".join(plan)


def _measure(ctx, explain: bool) -> None:
    """Time every table and page for three filter settings; then the plans of the Fallfluss page."""
    from praevcase.extensions import db
    from praevcase.reports import compose
    from praevcase.reports.definitions import PAGES
    from praevcase.reports.definitions import TABLES
    from praevcase.reports.definitions import Filters
    from praevcase.reports.periods import Period
    from praevcase.reports.queries import SOURCES

    scenarios = [("Jahr 2025", Filters(Period.parse("2025"))),
                 ("1. Halbjahr 2025", Filters(Period.parse("2025-H1"))),
                 ("H1 2025 Sozialraum+Phase",
                  Filters(Period.parse("2025-H1"), sozialraum="Südstadt", age_phase="kita"))]
    keys = list(dict.fromkeys(k for p in ("fallfluss", "sozialraum", "luecken") for k in PAGES[p].tables
                              if TABLES[k].source in SOURCES))
    print(f"{'ms (median of 5)':<24} " + " ".join(f"{label:>24}" for label, _ in scenarios))
    for key in keys:
        row = [_time(lambda f=f, k=key: compose.run(TABLES[k], f, ctx)) for _, f in scenarios]
        print(f"{key:<24} " + " ".join(f"{ms:>24.1f}" for ms in row))
    for page in ("fallfluss", "sozialraum", "luecken"):
        row = [_time(lambda f=f, p=page: compose.run_page(p, f, ctx)) for _, f in scenarios]
        print(f"{'page ' + page:<24} " + " ".join(f"{ms:>24.1f}" for ms in row))
    row = [_time(lambda f=f: compose.sachbericht(Filters(f.period, channel="famos_midwife"), ctx))
           for _, f in scenarios[:2]]
    print(f"{'page sachbericht':<24} " + " ".join(f"{ms:>24.1f}" for ms in row))

    print("\nplans of the Fallfluss and Lückenanalyse pages (1. Halbjahr 2025): execution time, indexes used")
    with _captured(db.engine) as statements:
        compose.run_page("fallfluss", scenarios[1][1], ctx)
        compose.run_page("luecken", scenarios[1][1], ctx)
    raw = db.session.connection()
    for statement, parameters in statements:
        if "count(" not in statement and "percentile_cont" not in statement:
            continue
        ms, used, plan = _explain(raw, statement, parameters)
        kind = "percentiles" if "percentile_cont" in statement else "counts"
        table = "cases (+history)" if kind == "percentiles" else re.search(r"FROM (\w+)", statement).group(1)
        print(f"  {ms:8.1f} ms  {kind:<11} {table:<18} {', '.join(used)}")
        if explain:
            print("    " + plan.replace("\n", "\n    ") + "\n")


def _populate(n: int):
    """The two tenants and their rows; returns the large tenant."""
    from praevcase.extensions import db

    started = time.perf_counter()
    big, big_agencies, big_users = _tenant("Kreis Bench", "kreis-bench", "KB")
    small, small_agencies, small_users = _tenant("Nachbarkreis", "nachbar", "NB")
    conn = db.session.connection()
    _load(conn, big, big_agencies, big_users, n, "a")
    _load(conn, small, small_agencies, small_users, max(n // 10, 1), "b")
    _load_support(conn, big, big_users, "a")
    _load_support(conn, small, small_users, "b")
    db.session.commit()
    counts = {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))  # noqa: S608 - fixed names
              for t in ("families", "cases", "transition_history", "agenda_items", "referrals", "lotse_contacts")}
    loaded = ", ".join(f"{t} {c:,}" for t, c in counts.items())
    print(f"loaded in {time.perf_counter() - started:.0f} s: {loaded}")
    return big


def _cpu_baseline() -> float:
    """How busy the machine is: an unloaded core counts 3 M generated rows in about 0.3 s."""
    from praevcase.extensions import db

    sql = "EXPLAIN ANALYZE SELECT count(*) FROM generate_series(1, 3000000)"
    runs = [float(re.search(r"Execution Time: ([\d.]+)", db.session.execute(sa.text(sql)).all()[-1][0]).group(1))
            for _ in range(3)]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("PRAEVCASE_TEST_DATABASE_URL",
                                                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--phases", default="with,without",
                        help="with: the reports' indexes; without: after dropping them (default: both)")
    parser.add_argument("--explain", action="store_true", help="print the full plans")
    parser.add_argument("--keep", action="store_true", help="keep the database (default: drop it at the end)")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by an earlier --keep run")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from praevcase.extensions import db
    from praevcase.reports import compose
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from tests.pg import fresh_database

    url = args.url.rpartition("/")[0] + "/" + NAME if args.reuse else fresh_database(args.url, NAME)
    app = _app(url)
    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        if args.reuse:
            from praevcase.tenants.models import Tenant

            big = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "kreis-bench"))
        else:
            upgrade()
            big = _populate(args.cases)
        with db.engine.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        size = db.session.scalar(sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        print(f"database size {size}; cases in the large tenant per year ≈ {args.cases // 5:,}")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
              f"count(*) over 3 M generated rows: {_cpu_baseline():.0f} ms")

        set_scope(db.session, big.id)
        ctx = compose.Context.of(big)
        for phase in args.phases.split(","):
            if phase == "without":
                for name in REPORT_INDEXES:
                    db.session.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
                db.session.commit()
            print(f"\n=== {phase} the report indexes ===")
            _measure(ctx, args.explain)
            db.session.rollback()
    with app.app_context():
        db.engine.dispose()
    if not args.keep:
        import psycopg

        with psycopg.connect(args.url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
