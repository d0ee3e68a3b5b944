"""SC-08 under HTTP load: the README's key rotation runbook while gunicorn serves, 0 failed requests.

tests/praevcase/privacy/test_rotation.py rotates while reader *threads* decrypt in-process. This check
runs the runbook against real processes: gunicorn (2 sync workers, keyring from
``PRAEVCASE_KEYRING_FILE``) serves clients that read cases with names (every read decrypts under the
family key) and open new cases (new family keys) all the time, while

``flask keys add-kek`` → HUP (workers restart and load the new keyring) → ``flask keys rotate`` →
``flask keys retire k1`` → HUP

runs alongside, each command as its own process. Afterwards every family key is wrapped under the new key, the old key's
material is gone from the file, and not one request failed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from consent.crypto import Keyring
from tests import pg
from tests.praevcase.cases.conftest import jobcenter_payload
from tests.scorecard import _serving as srv

CASES = 20


def _flask(env, *args: str) -> None:
    """``flask --app wsgi …`` as its own process, as an operator runs it (it loads the keyring file as it is now)."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=srv.ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (args, result.stdout, result.stderr)


def _restart_workers(master) -> None:
    """HUP: new workers with the new keyring, the old ones finish their request and exit."""
    old = set(srv.worker_pids(master.pid))
    os.kill(master.pid, signal.SIGHUP)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = set(srv.worker_pids(master.pid))
        if now and not (now & old) and len(now) >= 2:
            return
        time.sleep(0.1)
    raise AssertionError("workers did not restart")


def _client(base, token, case_ids, k, stop, stats, lock, writer: bool):
    headers = {"Authorization": f"Bearer {token}"}
    i = 0
    while not stop.is_set():
        if writer and i % 3 == 0:
            body = jobcenter_payload(k)
            for person in body["children"] + body["guardians"]:
                person["family_name"] = f"Rotation{uuid.uuid4().hex[:10]}"
            answer = srv.call(base, "POST", "/api/v1/cases/intake/jobcenter", body=body,
                              headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
            ok = answer.status == 201
            if ok:
                with lock:
                    case_ids.append(answer.json()["id"])
            kind = "write"
        else:
            with lock:
                case_id = case_ids[i % len(case_ids)]
            answer = srv.call(base, "GET", f"/api/v1/cases/{case_id}", headers=headers)
            ok = answer.status == 200 and all(p.get("family_name") for p in answer.json().get("persons") or [{}])
            kind = "read"
        with lock:
            stats[kind] += 1
            if not ok:
                stats["failed"].append((kind, answer.status, answer.error, answer.body[:200]))
        i += 1


@pytest.mark.long  # about a minute: worker restarts and CLI processes on two cores
def test_key_rotation_under_http_load(tmp_path, scorecard):
    from praevcase.extensions import db
    from praevcase.privacy.models import Family
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    server = pg.server_url()
    name = pg.run_scoped("sc_sc08")
    url = pg.fresh_database(server, name)
    try:
        ring_file = tmp_path / "keyring.json"
        Keyring.generate("k1").to_file(ring_file)
        app = srv.migrated_app(url, Keyring.from_file(ring_file), tmp_path)
        seed = srv.seed_cases(app, CASES)
        with app.app_context():
            db.engine.dispose()
        env = srv.app_env(url, Keyring.from_file(ring_file), tmp_path / "instance")
        env.pop("PRAEVCASE_KEYRING")
        env["PRAEVCASE_KEYRING_FILE"] = str(ring_file)

        stats = {"read": 0, "write": 0, "failed": []}
        lock, stop = threading.Lock(), threading.Event()
        case_ids = [c["id"] for c in seed["cases"]]
        steps = {}
        with srv.gunicorn(env, tmp_path / "gunicorn.log", workers=2, preload=False) as (base, master):
            clients = [threading.Thread(target=_client, args=(base, seed["intake"], case_ids, seed["kreis"], stop,
                                                              stats, lock, i == 0)) for i in range(4)]
            for t in clients:
                t.start()
            try:
                time.sleep(2)
                for label, action in (
                    ("add-kek", lambda: _flask(env, "keys", "add-kek", "--key-id", "k2")),
                    ("restart", lambda: _restart_workers(master)),
                    ("rotate", lambda: _flask(env, "keys", "rotate", "--batch", "2", "--pause", "0.2")),
                    ("retire", lambda: _flask(env, "keys", "retire", "k1")),
                    ("restart-again", lambda: _restart_workers(master)),
                ):
                    before = stats["read"] + stats["write"]
                    action()
                    steps[label] = stats["read"] + stats["write"] - before
                time.sleep(2)
            finally:
                stop.set()
                for t in clients:
                    t.join(timeout=60)

        with app.app_context():
            set_scope(db.session, ALL_TENANTS)
            kek_ids = Counter(db.session.scalars(sa.select(Family.kek_id)))
            db.session.rollback()
            db.engine.dispose()
    finally:
        pg.drop_database(server, name)
    ring = Keyring.from_file(ring_file)
    requests = stats["read"] + stats["write"]
    scorecard("SC-08", "http_requests_during_rotation", f"{requests},failed={len(stats['failed'])},"
              f"families_on_new_key={kek_ids['k2']}/{sum(kek_ids.values())},old_key_retired="
              f"{int('k1' not in ring.keys)},requests_while_rotating={steps['rotate']}")
    assert stats["failed"] == []
    assert set(kek_ids) == {"k2"} and sum(kek_ids.values()) >= CASES + 1  # new cases came in meanwhile
    assert "k1" not in ring.keys and ring.active_id == "k2"
    assert steps["rotate"] > 0 and stats["write"] > 0
