"""SC-11: PostgreSQL restarted twice under load — 503 (never 500) while it is down, recovery within 10 s,
no acknowledged write lost.

A throwaway cluster of its own (never the shared one), gunicorn with 2 workers on it, and load from
threads: API reads (case list), API writes (case transitions with an ``Idempotency-Key``, retried
with the same key until a 2xx), a signed-in HTML page (the start page) and a public HTML route that
reads the database (the calendar feed with an unknown, well-formed token: 404 when up). Restart 1: ``pg_ctl stop
-m fast``, 3 s down, start. Restart 2: ``pg_ctl stop -m immediate`` (a crash; recovery on start), 3 s
down, start. Recovery = from the moment the server accepts connections again to the first 2xx/404 of
each kind of request.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import psycopg
import sqlalchemy as sa

from praevcase.sessions.operations import FEED_PREFIX
from tests.scorecard import _serving as srv

NEXT = {"ready_for_review": "put_on_agenda", "on_agenda": "defer"}
DOWN_SECONDS = 3
MAX_RECOVERY_S = 10


class Load:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.samples: list[tuple[float, str, int, str]] = []  # (time, kind, status, detail)
        self.acked: dict[str, str] = {}
        self.refused: list[tuple] = []

    def note(self, kind: str, answer: srv.Answer) -> None:
        detail = answer.error or answer.headers.get("content-type", "")
        if answer.status == 503:
            detail += f" retry-after={answer.headers.get('retry-after')}"
            if kind.startswith("html"):
                text = answer.body.decode("utf-8", "replace")
                detail += " german" if "vorübergehend nicht erreichbar" in text else ""
        with self.lock:
            self.samples.append((time.monotonic(), kind, answer.status, detail))


def _reader(base, token, load: Load):
    while not load.stop.is_set():
        load.note("api_read", srv.call(base, "GET", "/api/v1/cases/", headers={"Authorization": f"Bearer {token}"},
                                       timeout=15))
        time.sleep(0.02)


def _html(base, cookie, load: Load):
    while not load.stop.is_set():
        load.note("html", srv.call(base, "GET", "/", headers={"Cookie": cookie}, timeout=15))
        feed = f"/sitzungen/kalender/{FEED_PREFIX}{uuid.uuid4().hex}.ics"  # unknown token: looked up, 404
        load.note("html_public", srv.call(base, "GET", feed, timeout=15))
        time.sleep(0.05)


def _writer(base, token, cases, load: Load):
    headers = {"Authorization": f"Bearer {token}"}
    i = 0
    while not load.stop.is_set():
        case = cases[i % len(cases)]
        key = f"sc11-{uuid.uuid4()}"
        body = {"trigger": NEXT[case["state"]], "version": case["version"], "reason": key}
        while True:  # retried with the same key until it is acknowledged (also after stop: nothing half-done)
            answer = srv.call(base, "POST", f"/api/v1/cases/{case['id']}/transitions", body=body,
                              headers={**headers, "Idempotency-Key": key}, timeout=15)
            load.note("api_write", answer)
            if 200 <= answer.status < 300:
                out = answer.json()
                with load.lock:
                    load.acked[key] = case["id"]
                case["version"], case["state"] = out["version"], out["state"]
                break
            code = answer.json().get("code") if answer.status and answer.body.startswith(b"{") else None
            if answer.status and answer.status < 500 and code != "idempotency_in_flight":
                with load.lock:
                    load.refused.append((key, answer.status, code))
                break
            time.sleep(0.1)
        i += 1
        time.sleep(0.02)


def _wait_recovered(load: Load, t_up: float) -> None:
    """Until every kind of request has succeeded again since *t_up* (at most MAX_RECOVERY_S + 1 s)."""
    kinds = {"api_read", "api_write", "html", "html_public"}
    while time.monotonic() < t_up + MAX_RECOVERY_S + 1:
        with load.lock:
            ok = {k for t, k, s, _ in load.samples if t >= t_up and s in (200, 201, 404)}
        if ok >= kinds:
            return
        time.sleep(0.1)


def _accepting(cluster) -> bool:
    try:
        with psycopg.connect(srv.libpq(cluster.url), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def test_database_restarts_give_503_not_500_and_lose_nothing(keyring, tmp_path, scorecard):
    from praevcase.extensions import db
    from praevcase.statemachine import TransitionHistory
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with srv.throwaway_cluster() as cluster:
        url = srv.create_database(cluster.url, "sc_sc11")
        secret = "scorecard-secret-key-not-for-production"  # noqa: S105 - a test's own key
        app = srv.migrated_app(url, keyring, tmp_path, SECRET_KEY=secret)
        seed = srv.seed_cases(app, 12)
        cookie = srv.session_cookie(app, seed["kreis"].coordinator)
        with app.app_context():
            db.engine.dispose()
        env = srv.app_env(url, keyring, tmp_path / "instance", PRAEVCASE_SECRET_KEY=secret)
        load = Load()
        events: list[tuple[str, float]] = []
        with srv.gunicorn(env, tmp_path / "gunicorn.log", workers=2) as (base, _master):
            assert srv.call(base, "GET", "/", headers={"Cookie": cookie}).status == 200, "signed-in page"
            assert srv.call(base, "GET", f"/sitzungen/kalender/{FEED_PREFIX}{uuid.uuid4().hex}.ics").status == 404
            threads = [threading.Thread(target=_reader, args=(base, seed["coordinator"], load)),
                       threading.Thread(target=_html, args=(base, cookie, load)),
                       threading.Thread(target=_writer, args=(base, seed["coordinator"], seed["cases"][:6], load)),
                       threading.Thread(target=_writer, args=(base, seed["coordinator"], seed["cases"][6:], load))]
            for t in threads:
                t.start()
            try:
                time.sleep(3)
                for mode in ("fast", "immediate"):
                    events.append(("down", time.monotonic()))
                    cluster.stop(mode)
                    time.sleep(DOWN_SECONDS)
                    cluster.start()
                    while not _accepting(cluster):
                        time.sleep(0.05)
                    t_up = time.monotonic()
                    events.append(("up", t_up))
                    _wait_recovered(load, t_up)
                    time.sleep(1)
            finally:
                load.stop.set()
                for t in threads:
                    t.join(timeout=120)
        log_text = (tmp_path / "gunicorn.log").read_text(errors="replace")

        with app.app_context():
            set_scope(db.session, ALL_TENANTS)
            reasons = Counter(db.session.scalars(sa.select(TransitionHistory.reason).where(
                TransitionHistory.reason.like("sc11-%"))))
            db.session.rollback()
            db.engine.dispose()

    statuses = Counter(s for _, _, s, _ in load.samples)
    status500 = statuses[500]
    kinds = sorted({k for _, k, _, _ in load.samples})
    recoveries = []
    for name, t_up in events:
        if name != "up":
            continue
        for kind in kinds:
            ok = [t for t, k, s, _ in load.samples if k == kind and t >= t_up and s in (200, 201, 404)]
            recoveries.append(ok[0] - t_up if ok else float("inf"))
    max_recovery = max(recoveries)
    down_answers = [(k, s, d) for t, k, s, d in load.samples
                    if any(a <= t <= b for (_, a), (_, b) in zip(events[::2], events[1::2], strict=True))]
    during = Counter((k, s) for k, s, _ in down_answers)
    problems_503 = [d for k, s, d in down_answers if s == 503 and k.startswith("api")]
    html_503 = [d for k, s, d in down_answers if s == 503 and k.startswith("html")]
    lost = sum(1 for key in load.acked if reasons[key] == 0)
    duplicates = sum(n - 1 for n in reasons.values() if n > 1)
    scorecard("SC-11", "restarts", f"2 status500={status500} max_recovery_s={max_recovery:.1f} lost={lost} "
              f"duplicates={duplicates} acknowledged_writes={len(load.acked)} status503={statuses[503]} "
              f"requests={len(load.samples)}")
    print("SC-11 statuses:", dict(statuses), "while down:", dict(during))
    assert status500 == 0, [line for line in log_text.splitlines() if "Traceback" in line or "ERROR" in line][:20]
    assert statuses[503] > 0 and problems_503 and html_503  # the outage was seen, and answered as designed
    assert all("application/problem+json" in d and "retry-after=5" in d for d in problems_503)
    assert all("text/html" in d and "german" in d and "retry-after=5" in d for d in html_503), Counter(html_503)
    assert max_recovery < MAX_RECOVERY_S
    assert load.refused == [] and len(load.acked) > 20
    assert lost == 0 and duplicates == 0
