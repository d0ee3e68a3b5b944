"""Real processes for the scorecard checks: a throwaway PostgreSQL cluster, gunicorn, an HTTP client.

Everything here is started by the test and ended by its own process id / process group; nothing
touches the shared cluster beyond creating and dropping the test's own database.
"""
from __future__ import annotations

import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL binary {name} not found")
    return path


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


# --- a throwaway cluster we may stop and restart ----------------------------------------------------


@dataclass
class Cluster:
    data: str
    port: int
    bindir: str
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.run_as, f"{self.bindir}/pg_ctl", "-D", self.data, *args],  # noqa: S603
                              capture_output=True, check=check, timeout=120)

    def start(self) -> None:
        self.ctl("-w", "-l", f"{self.data}/log", "-o",
                 f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} {self.options}", "start")

    def stop(self, mode: str = "fast") -> None:
        self.ctl("-w", "-m", mode, "stop")

    options: str = "-c fsync=off"


@contextmanager
def throwaway_cluster(options: str = "-c fsync=off"):
    """initdb + pg_ctl from the local binaries on a free port; stopped (immediate) and removed at the end."""
    bindir = os.path.dirname(pg_bin("initdb"))
    data = tempfile.mkdtemp(prefix="sc-pg-")
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    if run_as:
        shutil.chown(data, "postgres")
    subprocess.run([*run_as, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],  # noqa: S603
                   check=True, capture_output=True)
    cluster = Cluster(data, free_port(), bindir, run_as)
    cluster.options = options
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.ctl("-m", "immediate", "stop", check=False)
        shutil.rmtree(data, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rpartition("/")[0] + "/" + name


# --- the app: migrate, seed, serve ------------------------------------------------------------------


def migrated_app(url: str, keyring: Any, tmp: Path, **extra: Any):
    from flask_migrate import upgrade

    from praevcase import create_app
    from tests.conftest import _config

    app = create_app(_config(url, keyring, CHECKPOINT_FILE=str(tmp / "cp.log"),
                             TOMBSTONE_FILE=str(tmp / "tomb.log"), **extra))
    with app.app_context():
        upgrade()
    return app


def seed_cases(app, n: int) -> dict[str, Any]:
    """A Kreis and *n* committed cases in ready_for_review; API tokens of the coordinator and intake."""
    from praevcase.accounts.tokens import create_token
    from praevcase.cases import operations as ops
    from praevcase.cases.catalogue import IntakeChannel
    from praevcase.cases.schemas import JobcenterIntakeIn
    from praevcase.database import utcnow
    from praevcase.extensions import db
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from tests.praevcase.cases.conftest import build_kreis
    from tests.praevcase.cases.conftest import jobcenter_payload

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        db.session().expire_on_commit = False
        k = build_kreis(db.session)
        cases = []
        for i in range(n):
            body = jobcenter_payload(k)
            for person in body["children"] + body["guardians"]:
                person["family_name"] = f"Familie{i:04d}x"
            data = JobcenterIntakeIn().load(body)
            case = ops.open_case(k.tenant, IntakeChannel.jobcenter_observation, data, JobcenterIntakeIn.ANSWER_FIELDS,
                                 actor=k.intake, now=utcnow())
            cases.append({"id": str(case.id), "version": case.version, "state": case.state.value
                          if hasattr(case.state, "value") else case.state})
        _, coord = create_token(k.coordinator, name="sc", scopes=set(k.coordinator.roles), now=utcnow())
        _, intake = create_token(k.intake, name="sc", scopes=set(k.intake.roles), now=utcnow())
        db.session.commit()
        return {"kreis": k, "cases": cases, "coordinator": coord, "intake": intake, "tenant_id": k.tenant.id}


def app_env(url: str, keyring: Any, instance: Path, **extra: str) -> dict[str, str]:
    """PRAEVCASE_* for a served process (development mode, but keys and database given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAEVCASE_")}
    instance.mkdir(parents=True, exist_ok=True)
    env.update({"PRAEVCASE_DATABASE_URL": url, "PRAEVCASE_KEYRING": keyring.to_json(),
                "PRAEVCASE_SECRET_KEY": "scorecard-secret-key-not-for-production",
                "PRAEVCASE_INSTANCE_PATH": str(instance),
                "PRAEVCASE_CHECKPOINT_FILE": str(instance / "cp.log"),
                "PRAEVCASE_TOMBSTONE_FILE": str(instance / "tomb.log"), **extra})
    return env


@contextmanager
def gunicorn(env: dict[str, str], log: Path, *, workers: int = 2, preload: bool = True, timeout: int = 30):
    """``gunicorn wsgi:app`` with sync workers; stdout/stderr (app log, access log) into *log*.

    Yields (base_url, master Popen). Ended by its own process group.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
           "--timeout", str(timeout), "--graceful-timeout", "5", "--access-logfile", "-", "--log-level", "info"]
    if preload:
        cmd.append("--preload")
    out = open(log, "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([*cmd, "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,  # noqa: S603
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(base + "/__ping__", timeout=2)  # noqa: S310 - loopback
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not come up") from None
                time.sleep(0.2)
        yield base, proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        out.close()


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's children (its workers)."""
    pids: list[int] = []
    for task in glob.glob(f"/proc/{master_pid}/task/*/children"):
        with suppress(OSError):
            pids += [int(p) for p in Path(task).read_text().split()]
    return pids


def session_cookie(app, user) -> str:
    """Sign in *user* through the test client of an app sharing the served app's SECRET_KEY and database;
    the ``Cookie`` header value works against the served processes too."""
    from tests.conftest import login_as

    client = app.test_client()
    login_as(client, app, user)
    client.get("/")  # the session cookie is written on a response
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return f"{cookie.key}={cookie.value}"


# --- a small HTTP client that never raises on a status --------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused/reset, timeout)
    body: bytes
    headers: dict[str, str]
    error: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


def call(base: str, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> Answer:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return Answer(r.status, r.read(), {k.lower(): v for k, v in r.getheaders()})
    except (OSError, http.client.HTTPException) as e:
        return Answer(0, b"", {}, type(e).__name__)
    finally:
        conn.close()
