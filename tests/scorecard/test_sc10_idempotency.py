"""SC-10: 1 000 case transitions with idempotency keys and client retries while gunicorn workers are
kill -9'ed: no acknowledged transition lost, none applied twice, every state legal.

Real processes on a database of its own: gunicorn with 3 sync workers serves the API; 8 client
threads each drive their own cases round the cycle ready_for_review → put_on_agenda → on_agenda →
defer → ready_for_review, one POST per step with a fresh ``Idempotency-Key`` (also written into the
transition's ``reason``, so the history names the key); a lost answer (connection reset by a killed
worker, 503, 409 ``idempotency_in_flight``) is retried with the same key and body until a 2xx comes.
Meanwhile a killer thread sends SIGKILL to a random worker every 0.2–0.7 s. Afterwards every
acknowledged key must have exactly one history row, and each case's history must be a legal path of
the workflow ending in the case's state.
"""
from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections import defaultdict

import pytest
import sqlalchemy as sa

from tests import pg
from tests.scorecard import _serving as srv
from workflows.case import TRANSITIONS

TRANSITIONS_TOTAL = 1000
CASES = 40
CLIENTS = 8
WORKERS = 3
NEXT = {"ready_for_review": "put_on_agenda", "on_agenda": "defer"}


def _legal(trigger: str, source: str, dest: str) -> bool:
    for t in TRANSITIONS:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        if t["trigger"] == trigger and source in {getattr(s, "value", s) for s in sources}:
            target = source if t["dest"] is None else getattr(t["dest"], "value", t["dest"])
            return target == dest
    return False


@pytest.fixture
def sc10_db():
    server = pg.server_url()
    name = pg.run_scoped("sc_sc10")
    yield pg.fresh_database(server, name)
    pg.drop_database(server, name)


def _drive(base, token, cases, quota, stats, lock):
    """Fire transitions on *cases* (dicts with id/version/state) until *quota* are acknowledged."""
    headers = {"Authorization": f"Bearer {token}"}
    rnd = random.Random()  # noqa: S311 - timing jitter, not a secret
    done = 0
    while done < quota:
        case = cases[done % len(cases)]
        key = f"sc10-{uuid.uuid4()}"
        body = {"trigger": NEXT[case["state"]], "version": case["version"], "reason": key}
        for attempt in range(200):
            answer = srv.call(base, "POST", f"/api/v1/cases/{case['id']}/transitions", body=body,
                              headers={**headers, "Idempotency-Key": key})
            if 200 <= answer.status < 300:
                out = answer.json()
                with lock:
                    stats["acked"][key] = case["id"]
                    stats["attempts"] += attempt + 1
                    if answer.headers.get("idempotent-replayed") == "true":
                        stats["replayed"] += 1
                case["version"], case["state"] = out["version"], out["state"]
                done += 1
                break
            code = None
            if answer.status:
                try:
                    code = answer.json().get("code")
                except ValueError:
                    code = None
            with lock:
                stats["retry_causes"][answer.error or f"{answer.status}:{code}"] += 1
            if answer.status and answer.status < 500 and code != "idempotency_in_flight":
                with lock:  # a definitive refusal: a bug of the mechanism (e.g. stale after a lost commit)
                    stats["refused"].append((key, answer.status, code))
                done += 1
                break
            time.sleep(0.05 + rnd.random() * 0.15)
        else:
            with lock:
                stats["gave_up"].append(key)
            done += 1


def _killer(master, stop, stats):
    rnd = random.Random()  # noqa: S311 - timing jitter, not a secret
    while not stop.wait(0.2 + rnd.random() * 0.5):
        pids = srv.worker_pids(master.pid)
        if pids:
            try:
                os.kill(rnd.choice(pids), signal.SIGKILL)
                stats["kills"] += 1
            except ProcessLookupError:
                pass


@pytest.mark.long  # about 2–3 minutes on two cores: `pytest -m long tests/scorecard`
def test_idempotent_transitions_survive_killed_workers(sc10_db, keyring, tmp_path, scorecard):
    from praevcase.extensions import db
    from praevcase.statemachine import TransitionHistory
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    app = srv.migrated_app(sc10_db, keyring, tmp_path)
    seed = srv.seed_cases(app, CASES)
    with app.app_context():
        db.engine.dispose()
    env = srv.app_env(sc10_db, keyring, tmp_path / "instance")
    stats = {"acked": {}, "attempts": 0, "replayed": 0, "retry_causes": Counter(), "refused": [], "gave_up": [],
             "kills": 0}
    lock, stop = threading.Lock(), threading.Event()
    started = time.monotonic()
    with srv.gunicorn(env, tmp_path / "gunicorn.log", workers=WORKERS) as (base, master):
        share = [seed["cases"][i::CLIENTS] for i in range(CLIENTS)]
        clients = [threading.Thread(target=_drive, args=(base, seed["coordinator"], share[i],
                                                         TRANSITIONS_TOTAL // CLIENTS, stats, lock))
                   for i in range(CLIENTS)]
        killer = threading.Thread(target=_killer, args=(master, stop, stats))
        for t in clients:
            t.start()
        killer.start()
        for t in clients:
            t.join(timeout=600)
        stop.set()
        killer.join()
    elapsed = time.monotonic() - started

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        from praevcase.cases.models import Case

        rows = db.session.execute(sa.select(TransitionHistory.object_id, TransitionHistory.trigger,
                                            TransitionHistory.from_state, TransitionHistory.to_state,
                                            TransitionHistory.reason)
                                  .where(TransitionHistory.workflow == "case")
                                  .order_by(TransitionHistory.object_id, TransitionHistory.occurred_dt,
                                            TransitionHistory.id)).all()
        states = {str(c.id): getattr(c.state, "value", c.state) for c in db.session.scalars(sa.select(Case))}
        keys_stored = db.session.scalar(sa.text("SELECT count(*) FROM idempotency_keys"))
        db.session.rollback()
        db.engine.dispose()

    per_key = Counter(r.reason for r in rows if r.reason and r.reason.startswith("sc10-"))
    acked = stats["acked"]
    lost = sum(1 for key in acked if per_key[key] == 0)
    duplicates = sum(n - 1 for n in per_key.values() if n > 1)
    by_case = defaultdict(list)
    for r in rows:
        by_case[str(r.object_id)].append(r)
    illegal = 0
    for case_id, history in by_case.items():
        previous = None
        for r in history:
            if not _legal(r.trigger, r.from_state, r.to_state) or (previous is not None and r.from_state != previous):
                illegal += 1
            previous = r.to_state
        if previous != states[case_id]:
            illegal += 1
    interrupted = sum(n for cause, n in stats["retry_causes"].items() if not cause[0].isdigit())
    scorecard("SC-10", "acknowledged", f"{len(acked)} lost={lost} duplicates={duplicates} illegal={illegal} "
              f"kills={stats['kills']} interrupted={interrupted} replayed={stats['replayed']} "
              f"refused={len(stats['refused'])} gave_up={len(stats['gave_up'])} seconds={elapsed:.0f}")
    print("SC-10 retry causes:", dict(stats["retry_causes"]), "keys stored:", keys_stored)
    assert stats["refused"] == [] and stats["gave_up"] == []
    assert len(acked) == TRANSITIONS_TOTAL
    assert lost == 0 and duplicates == 0 and illegal == 0
    assert stats["kills"] >= 10 and interrupted > 0  # the kills did hit requests in flight
