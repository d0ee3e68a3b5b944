"""One command per scale: generate (if needed), run the real service and the baseline, print one table.

    .venv/bin/python -m bench.run --scale small|kreis|state [--regenerate] [--seconds 10] [--connections 16]
                                  [--verify all|tenant] [--no-rotation] [--json PATH]

What it does, in one run (so the ratios compare like with like on a shared machine):

1. ``bench.generate`` fills ``bench_<scale>`` unless it exists (``--regenerate`` forces it).
2. Baseline: ``bench.baseline_app`` (minimal Flask + Flask-SQLAlchemy, its own database ``bench_baseline``) under
   gunicorn with the same settings as the service (``-w 2 -k sync``, 127.0.0.1), driven by wrk with 16
   connections: ``/read/<id>`` (one-row read) and ``/read-insert/<id>`` (one-row read plus one-row insert).
3. The service: ``gunicorn wsgi:app`` against ``bench_<scale>``, configured through ``PRAEVCASE_*`` like production
   (keyring and checkpoint key from ``bench/.data/<database>/``). Users sign in through a server-side session
   created by ``accounts.operations.start_session`` (the step after TOTP) and its signed cookie.
   - P1 ``GET /faelle/<id>`` as the Lotse of the case (consent check, decrypt, audit insert, render), 16 connections;
   - P2 pages with 2 connections (= workers, so the latency is the page's): "Meine Familien" ``/lotse/`` as a Lotse,
     the coordinator's queue ``/faelle/``, the agenda page ``/sitzungen/<next>`` and the dashboard
     ``/berichte/fallfluss`` as the coordinator;
   - P4 re-wrap under load: a new KEK is made active (``Keyring.with_new_active``), the service restarted with it
     (the documented order), then ``privacy.rotation.rotate_family_batch`` re-wraps every family key in batches of
     500 (one transaction each) while wrk drives P1; failed requests are counted.
4. In-process, through the app's code on the same database: P2 agenda build (``sessions.agenda.build_agenda`` on
   the next planned session, rolled back) and reminder sweep (``reminders.jobs.run_sweep``: first run, then a
   repeat with nothing new), P4 ``vault.reveal_many`` of 50 persons × 5 fields as the Lotse (keys unwrapped in each
   run, as in a request), P5 ``audit.verify.verify_chains`` (the measured tenant, or ``--verify all``).
5. P3 ``bench.micro_transition`` (``fire()`` path vs a raw guarded UPDATE), in its own database.

The table gives each figure with its baseline, ratio, target and PASS/MISS; for ``state`` the P2 rows also show the
growth from the latest ``kreis`` run (``bench/.data/bench_kreis/results.json``). Times on a shared 2-core machine
are noise; the ratios are the figures to compare.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import httpbench
from bench.generate import SCALES
from bench.generate import SERVER
from bench.generate import app_for
from bench.generate import data_dir
from bench.generate import generate
from bench.generate import libpq
from bench.generate import secrets_for

TENANT_SLUG = "bench-01"
P2_PAGES = [("meine_familien", "Meine Familien /lotse/", "lotse"), ("queue", "Koordination /faelle/", "coord"),
            ("agenda_page", "Agenda page /sitzungen/<next>", "coord"),
            ("dashboard", "Dashboard /berichte/fallfluss", "coord")]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- fixtures in the generated database ---------------------------------------------------------------------------

def prepare(app) -> dict[str, Any]:
    """Cookies for the Lotse and the coordinator of the measured tenant, and the ids the requests use."""
    import sqlalchemy as sa

    from praevcase.accounts.models import User
    from praevcase.accounts.operations import start_session
    from praevcase.cases.models import Case
    from praevcase.database import utcnow
    from praevcase.extensions import db
    from praevcase.sessions.models import ReviewSession
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from praevcase.tenants.models import Tenant
    from workflows.case import CaseState

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == TENANT_SLUG))
        set_scope(db.session, tenant.id)
        lotse = db.session.scalar(sa.select(User).where(User.email == f"praeventionskraft@{TENANT_SLUG}.bench"))
        coord = db.session.scalar(sa.select(User).where(User.email == f"koordination@{TENANT_SLUG}.bench"))
        cases = [str(c) for c in db.session.scalars(sa.select(Case.id).where(
            Case.lotse_user_id == lotse.id, Case.state == CaseState.in_support).order_by(Case.id))]
        session = db.session.scalar(sa.select(ReviewSession).where(ReviewSession.state == "planned")
                                    .order_by(ReviewSession.starts_dt).limit(1))
        now = utcnow()
        tokens = {k: start_session(u, now=now, second_factor="bench") for k, u in (("lotse", lotse), ("coord", coord))}
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        name = app.config["SESSION_COOKIE_NAME"]
        cookies = {k: f"{name}={serializer.dumps({'_user_id': t, '_fresh': True})}" for k, t in tokens.items()}
        return {"tenant_id": tenant.id, "lotse_id": lotse.id, "coord_id": coord.id, "cases": cases,
                "session_id": str(session.id), "cookies": cookies}


# --- HTTP ---------------------------------------------------------------------------------------------------------

def service_env(url: str, db_name: str) -> dict[str, str]:
    env = secrets_for(db_name, create=False)
    env["PRAEVCASE_DATABASE_URL"] = url
    return env


def clean_environ() -> None:
    """An unknown PRAEVCASE_* variable stops the service: pass on only the ones set here."""
    for key in [k for k in os.environ if k.startswith("PRAEVCASE_")]:
        del os.environ[key]


def run_baseline(server: str, seconds: int, connections: int) -> dict[str, httpbench.Result]:
    from bench import baseline_app

    url = server + "bench_baseline"
    with _psycopg_admin(server) as conn:
        conn.execute('DROP DATABASE IF EXISTS "bench_baseline" WITH (FORCE)')
        conn.execute('CREATE DATABASE "bench_baseline"')
    baseline_app.prepare(url)
    paths_read = [f"/read/{i}" for i in range(1, 1001)]
    out = {}
    with httpbench.gunicorn("bench.baseline_app:app", {"BASELINE_DATABASE_URL": url}) as (base, _):
        httpbench.prime(base, paths_read[:2] + ["/read-insert/1"])
        out["read"] = httpbench.wrk("baseline read", base, paths_read, connections=connections, seconds=seconds)
        out["read_insert"] = httpbench.wrk("baseline read+insert", base, [p.replace("/read/", "/read-insert/")
                                                                           for p in paths_read],
                                           connections=connections, seconds=seconds)
    return out


def _psycopg_admin(server: str):
    import psycopg

    return psycopg.connect(libpq(server + "postgres"), autocommit=True)


def run_pages(env: dict[str, str], fx: dict[str, Any], seconds: int, connections: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cookies = fx["cookies"]
    with httpbench.gunicorn("wsgi:app", env) as (base, _):
        p1_paths = [f"/faelle/{c}" for c in fx["cases"]]
        httpbench.prime(base, p1_paths[:4], header=("Cookie", cookies["lotse"]), times=2)
        out["p1"] = httpbench.wrk("P1 case detail", base, p1_paths, connections=connections, seconds=seconds,
                                  header=("Cookie", cookies["lotse"]), warmup=min(2, seconds))
        for key, label, who in P2_PAGES:
            path = {"meine_familien": "/lotse/", "queue": "/faelle/", "dashboard": "/berichte/fallfluss",
                    "agenda_page": f"/sitzungen/{fx['session_id']}"}[key]
            httpbench.prime(base, [path], header=("Cookie", cookies[who]), times=2)
            out[key] = httpbench.wrk(label, base, [path], connections=2, seconds=seconds,
                                     header=("Cookie", cookies[who]), warmup=min(1, seconds))
    return out


def run_rotation(app, url: str, db_name: str, env: dict[str, str], fx: dict[str, Any], connections: int,
                 batch: int = 500) -> dict[str, Any]:
    """A new active KEK, the service restarted with it, then every family key re-wrapped while P1 is driven."""
    from consent.crypto import Keyring

    ring_file = Path(env["PRAEVCASE_KEYRING_FILE"])
    ring = Keyring.from_file(ring_file).with_new_active()
    ring_file.unlink()
    ring.to_file(ring_file)
    app.config["KEYRING"] = ring
    results: list[httpbench.Result] = []
    done = threading.Event()
    with httpbench.gunicorn("wsgi:app", env) as (base, _):
        paths = [f"/faelle/{c}" for c in fx["cases"]]

        def drive() -> None:
            while not done.is_set():
                results.append(httpbench.wrk("P1 during re-wrap", base, paths, connections=connections, seconds=3,
                                             header=("Cookie", fx["cookies"]["lotse"]), warmup=0))
        httpbench.prime(base, paths[:2], header=("Cookie", fx["cookies"]["lotse"]))
        thread = threading.Thread(target=drive)
        thread.start()
        time.sleep(1)
        moved, seconds = _rotate(app, batch)
        done.set()
        thread.join()
    return {"keys": moved, "seconds": seconds, "rate": moved / seconds if seconds else 0.0,
            "requests": sum(r.rps * 3 for r in results), "non2xx": sum(r.non2xx for r in results),
            "errors": sum(r.errors for r in results), "p99_ms": max((r.p99_ms for r in results), default=0.0)}


def _rotate(app, batch: int) -> tuple[int, float]:
    from praevcase.database import utcnow
    from praevcase.extensions import db
    from praevcase.privacy.rotation import RotationCursor
    from praevcase.privacy.rotation import rotate_family_batch
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        moved = 0
        started = time.perf_counter()
        cursor = RotationCursor()
        while n := rotate_family_batch(batch=batch, now=utcnow(), cursor=cursor):
            db.session.commit()
            moved += n
        db.session.commit()
        return moved, time.perf_counter() - started


# --- in-process figures -------------------------------------------------------------------------------------------

def run_inprocess(app, fx: dict[str, Any], verify_all: bool) -> dict[str, Any]:
    import sqlalchemy as sa

    from consent.scopes import Purpose
    from praevcase.accounts.models import User
    from praevcase.audit.verify import verify_app_chains
    from praevcase.cases.models import Case
    from praevcase.database import utcnow
    from praevcase.extensions import db
    from praevcase.privacy.models import Family
    from praevcase.privacy.models import Person
    from praevcase.privacy.vault import forget_grants
    from praevcase.privacy.vault import forget_keys
    from praevcase.privacy.vault import reveal_many
    from praevcase.sessions.agenda import build_agenda
    from praevcase.sessions.models import ReviewSession
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from workflows.case import CaseState

    out: dict[str, Any] = {}
    fields = ["given_name", "family_name", "birth_date", "address", "phone"]
    with app.app_context():
        set_scope(db.session, fx["tenant_id"])
        lotse = db.session.get(User, fx["lotse_id"])
        coord = db.session.get(User, fx["coord_id"])
        now = utcnow()
        # P4: reveal of 50 rows × 5 fields
        persons = list(db.session.execute(
            sa.select(Family, Person).join(Person, Person.family_id == Family.id)
            .join(Case, Case.family_id == Family.id)
            .where(Case.lotse_user_id == fx["lotse_id"], Case.state == CaseState.in_support)
            .order_by(Person.id).limit(50)))
        runs = []
        for _ in range(30):
            forget_keys()
            forget_grants()
            t = time.perf_counter()
            values = reveal_many(persons, fields, actor=lotse, purpose=Purpose.lotse_support, now=now)
            runs.append((time.perf_counter() - t) * 1000)
            db.session.info.pop("audit_pending", None)
        denied = sum(1 for v in values for x in v.values() if not x and x is not None)
        out["reveal"] = {"rows": len(persons), "ms_median": statistics.median(runs), "denied": denied}
        db.session.rollback()
        # P2: agenda build of the next planned session (rolled back: every run sees the same queue)
        session = db.session.get(ReviewSession, fx["session_id"])
        runs = []
        added = 0
        for _ in range(5):
            session = db.session.get(ReviewSession, fx["session_id"])
            t = time.perf_counter()
            added = build_agenda(session, actor=coord, now=now)
            db.session.flush()
            runs.append((time.perf_counter() - t) * 1000)
            db.session.rollback()
            db.session.info.pop("audit_pending", None)
        out["agenda_build"] = {"p95_ms": max(runs), "median_ms": statistics.median(runs), "items": added}
        # P2: reminder sweep of the measured tenant (what run_sweep does per tenant), then a repeat
        sweeps = [_sweep_tenant(fx["tenant_id"], now) for _ in range(2)]
        due = db.session.scalar(sa.text("SELECT count(*) FROM reminders WHERE state = 'open' AND tenant_id = :t"),
                                {"t": fx["tenant_id"]})
        out["sweep"] = {"first": sweeps[0], "repeat": sweeps[1], "open_reminders": due}
        # P5: audit-chain verification
        set_scope(db.session, ALL_TENANTS)
        report = verify_app_chains(db.session, None if verify_all else fx["tenant_id"])
        db.session.rollback()
        out["verify"] = {"events": report.events, "seconds": report.seconds, "rate": report.events_per_second,
                         "intact": report.intact, "chains": len(report.chains)}
    return out


def _sweep_tenant(tenant_id: Any, now: datetime) -> dict[str, Any]:
    """The per-tenant part of ``reminders.jobs.run_sweep`` (cancel, then create, per kind; committed), timed
    per kind. Delivery (outbox, digests) is not part of it."""
    from praevcase.extensions import db
    from praevcase.reminders import operations as ops
    from praevcase.reminders.registry import load_kinds
    from praevcase.tenancy import scoped
    from praevcase.tenants.models import Tenant

    out: dict[str, Any] = {"ms": 0.0, "created": 0, "cancelled": 0, "kinds": {}}
    with scoped(db.session, tenant_id):
        ctx = ops.context_for(db.session.get(Tenant, tenant_id), now)
        for name, kind in load_kinds().items():
            t = time.perf_counter()
            cancelled = ops.cancel_invalid(kind, ctx)
            db.session.commit()
            t_cancel = time.perf_counter()
            created = ops.create_due(kind, ctx)
            db.session.commit()
            ms_cancel, ms_create = (t_cancel - t) * 1000, (time.perf_counter() - t_cancel) * 1000
            out["kinds"][name] = {"cancel_ms": round(ms_cancel, 1), "create_ms": round(ms_create, 1),
                                  "created": created, "cancelled": cancelled}
            out["ms"] += ms_cancel + ms_create
            out["created"] += created
            out["cancelled"] += cancelled
    return out


def run_transition(n: int, server: str) -> dict[str, float]:
    cmd = [sys.executable, "-m", "bench.micro_transition", "--n", str(n), "--url", server]
    out = subprocess.run(cmd, capture_output=True,  # noqa: S603 - our own module
                         text=True, check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    app_us = re.search(r"app path: .*?([\d.]+) µs\s+([\d.]+) µs", out)
    raw_us = re.search(r"raw guarded UPDATE\s+([\d.]+) µs\s+([\d.]+) µs", out)
    ratio = re.search(r"ratio app path / raw UPDATE: ([\d.]+)x \(commit/100\), ([\d.]+)x", out)
    return {"app_us": float(app_us.group(1)), "app_us_each": float(app_us.group(2)),
            "raw_us": float(raw_us.group(1)), "raw_us_each": float(raw_us.group(2)),
            "ratio": float(ratio.group(1)), "ratio_each": float(ratio.group(2))}


# --- the table ----------------------------------------------------------------------------------------------------

def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


def _growth(now_ms: float, kreis_ms: float, r: dict[str, Any], previous: dict[str, Any]) -> float:
    """state / kreis, each time first expressed in its own run's baseline (read+insert req/s × ms): the two runs
    may meet different loads on a shared machine, the baseline meets the same."""
    here, there = r["baseline"]["read_insert"]["rps"], previous["baseline"]["read_insert"]["rps"]
    return (now_ms * here) / max(kreis_ms * there, 1e-9)


def build_table(r: dict[str, Any], previous: dict[str, Any] | None) -> str:
    rows: list[list[str]] = []
    base = r["baseline"]
    p1 = r["pages"]["p1"]
    pct = 100 * p1["rps"] / base["read_insert"]["rps"]
    rows.append(["P1 case detail (Lotse) req/s", f"{p1['rps']:.0f}", f"read+insert {base['read_insert']['rps']:.0f}"
                 f" / read {base['read']['rps']:.0f}", f"{pct:.0f} % of read+insert", ">= 60 %",
                 verdict(pct >= 60)])
    rows.append(["P1 p50 / p99 at 16 conn", f"{p1['p50_ms']:.1f} / {p1['p99_ms']:.1f} ms",
                 f"{base['read_insert']['p50_ms']:.1f} / {base['read_insert']['p99_ms']:.1f} ms", "", "p99 < 50 ms",
                 verdict(p1["p99_ms"] < 50 and p1["rps"] > 0)])
    state_scale = r["scale"] == "state"
    for key, label, _who in P2_PAGES:
        p = r["pages"][key]
        limit = 1000 if key == "dashboard" else (200 if state_scale else 50)
        growth = ""
        if previous and key in previous.get("pages", {}):
            growth = f"x{_growth(p['p95_ms'], previous['pages'][key]['p95_ms'], r, previous):.2f} vs kreis"
        rows.append([f"P2 {label} p95", f"{p['p95_ms']:.1f} ms", f"p50 {p['p50_ms']:.1f} ms", growth,
                     f"< {limit} ms", verdict(p["p95_ms"] < limit and p["non2xx"] == 0 and p["rps"] > 0)])
    ab = r["inprocess"]["agenda_build"]
    growth = ""
    if previous:
        growth = f"x{_growth(ab['p95_ms'], previous['inprocess']['agenda_build']['p95_ms'], r, previous):.2f} vs kreis"
    rows.append(["P2 agenda build (max of 5)", f"{ab['p95_ms']:.0f} ms", f"{ab['items']} cases put on agenda",
                 growth, f"< {200 if state_scale else 50} ms", verdict(ab["p95_ms"] < (200 if state_scale else 50))])
    sw = r["inprocess"]["sweep"]
    per = (f"{sw['first']['ms'] / sw['first']['created']:.1f} ms per new item" if sw["first"]["created"] else
           f"{sw['repeat']['ms'] / max(sw['open_reminders'] or 1, 1):.2f} ms per open reminder")
    slow = max(sw["repeat"]["kinds"].items(), key=lambda kv: kv[1]["cancel_ms"] + kv[1]["create_ms"])
    rows.append(["P2 reminder sweep (one tenant)", f"{sw['first']['ms']:.0f} ms, {sw['first']['created']} new",
                 f"repeat {sw['repeat']['ms']:.0f} ms, 0 new; {sw['open_reminders']} open",
                 per, "~ due items", "-"])
    rows.append(["P2 sweep repeat: slowest kind", slow[0], f"cancel {slow[1]['cancel_ms']:.0f} ms",
                 f"create {slow[1]['create_ms']:.0f} ms", "", "-"])
    p3 = r["transition"]
    rows.append(["P3 fire() vs raw UPDATE (commit/100)", f"{p3['app_us']:.0f} µs", f"raw {p3['raw_us']:.0f} µs",
                 f"{p3['ratio']:.2f}x", "<= 1.5x", verdict(p3["ratio"] <= 1.5)])
    rows.append(["P3 same, commit each", f"{p3['app_us_each']:.0f} µs", f"raw {p3['raw_us_each']:.0f} µs",
                 f"{p3['ratio_each']:.2f}x", "(request shape)", "-"])
    rv = r["inprocess"]["reveal"]
    rows.append(["P4 reveal 50 rows x 5 fields", f"{rv['ms_median']:.2f} ms", f"{rv['rows']} rows", "",
                 "< 2 ms", verdict(rv["ms_median"] < 2)])
    if r.get("rotation"):
        ro = r["rotation"]
        minutes = 1_000_000 / ro["rate"] / 60 if ro["rate"] else float("inf")
        rows.append(["P4 re-wrap under P1 load", f"{ro['rate']:.0f} keys/s",
                     f"{ro['keys']:,} keys in {ro['seconds'] / 60:.1f} min",
                     f"1 M keys in {minutes:.1f} min", "< 2 min, 0 failed",
                     verdict(minutes < 2 and ro["non2xx"] == 0 and ro["errors"] == 0)])
        rows.append(["P4 requests during re-wrap", f"{ro['requests']:.0f} requests",
                     f"{ro['non2xx']} non-2xx, {ro['errors']} socket errors", f"p99 {ro['p99_ms']:.0f} ms",
                     "0 failed", verdict(ro["non2xx"] == 0 and ro["errors"] == 0)])
    vf = r["inprocess"]["verify"]
    rows.append(["P5 audit-chain verification", f"{vf['rate']:,.0f} events/s",
                 f"{vf['events']:,} events, {vf['chains']} chains", "intact" if vf["intact"] else "BROKEN",
                 ">= 200 k/s", verdict(vf["rate"] >= 200_000 and vf["intact"])])
    return httpbench.table(rows, ["figure", "measured", "baseline / context",
                                  "ratio / growth (load-adjusted)" if previous else "ratio", "target", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--server", default=SERVER, help=f"PostgreSQL server URL ending in / (default {SERVER})")
    parser.add_argument("--database-url", help="default <server>bench_<scale>")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--seconds", type=int, help="wrk duration per figure (default 10; small 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--transitions", type=int, help="transitions per P3 variant (default 2000; small 300)")
    parser.add_argument("--verify", choices=("tenant", "all"), default="tenant")
    parser.add_argument("--no-rotation", action="store_true")
    parser.add_argument("--rotation-only", action="store_true",
                        help="only the re-wrap under load, added to the scale's last results.json")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    small = args.scale == "small"
    seconds = args.seconds or (2 if small else 10)
    server = args.server if args.server.endswith("/") else args.server + "/"
    url = args.database_url or f"{server}bench_{args.scale}"
    db_name = url.rpartition("/")[2]
    started = time.perf_counter()
    clean_environ()
    if args.regenerate or not (data_dir(db_name) / "summary.json").exists():
        log(f"generating {db_name} ({args.scale}) …")
        generate(args.scale, url, log=log)
    summary = json.loads((data_dir(db_name) / "summary.json").read_text())
    env = service_env(url, db_name)
    app = app_for(url, db_name)
    with app.app_context():  # a kept database gets the migrations that landed since it was generated
        from flask_migrate import upgrade

        upgrade()
    fx = prepare(app)
    if args.rotation_only:
        r = json.loads((data_dir(db_name) / "results.json").read_text())
        log("key re-wrap under load …")
        r["rotation"] = run_rotation(app, url, db_name, service_env(url, db_name), fx, args.connections)
        r["rotation"]["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        r["machine"] += f"; re-wrap measured separately at {r['rotation']['date']}, load {os.getloadavg()[0]:.1f}"
        _report(r, args, db_name)
        return
    log(f"measured tenant {TENANT_SLUG}: {len(fx['cases'])} supported cases of the Lotse")
    r: dict[str, Any] = {"scale": args.scale, "database": db_name, "summary": summary,
                         "date": datetime.now(UTC).isoformat(timespec="seconds"),
                         "machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at start"}
    log("baseline …")
    r["baseline"] = {k: vars(v) for k, v in run_baseline(server, seconds, args.connections).items()}
    log("service pages …")
    r["pages"] = {k: vars(v) for k, v in run_pages(env, fx, seconds, args.connections).items()}
    log("in-process: reveal, agenda build, sweep, verify …")
    r["inprocess"] = run_inprocess(app, fx, args.verify == "all")
    log("transitions …")
    r["transition"] = run_transition(args.transitions or (300 if small else 2000), server)
    if not args.no_rotation:
        log("key re-wrap under load …")
        r["rotation"] = run_rotation(app, url, db_name, env, fx, args.connections)
    elif (data_dir(db_name) / "results.json").exists():  # keep the last re-wrap figure, with its date
        last = json.loads((data_dir(db_name) / "results.json").read_text()).get("rotation")
        if last:
            r["rotation"] = last
            r["machine"] += f"; re-wrap from the run of {last.get('date', 'an earlier run')}"
    r["machine"] += f", {os.getloadavg()[0]:.1f} at end; run took {time.perf_counter() - started:.0f} s"
    _report(r, args, db_name)


def _report(r: dict[str, Any], args: argparse.Namespace, db_name: str) -> None:
    previous = None
    if args.scale == "state" and (data_dir("bench_kreis") / "results.json").exists():
        previous = json.loads((data_dir("bench_kreis") / "results.json").read_text())
    table = build_table(r, previous)
    r["table"] = table
    (data_dir(db_name) / "results.json").write_text(json.dumps(r, indent=1, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1, default=str))
    summary = r["summary"]
    counts = summary["counts"]
    print(f"praevcase bench, scale {args.scale} ({counts['tenants'] - 1} tenants, {counts['cases']:,} cases, "
          f"{counts['audit_events']:,} audit events, {summary['size']}), {r['date']}, {r['machine']}")
    print(table)
    nonok = [k for k, v in r["pages"].items() if v["non2xx"] or v["errors"]]
    if nonok:
        print(f"non-2xx or socket errors in: {', '.join(nonok)}")


if __name__ == "__main__":
    main()
