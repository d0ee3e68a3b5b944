"""Find or start the PostgreSQL the suite runs on; give each xdist worker its own database."""
from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import psycopg

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _throwaway_cluster() -> str:
    """initdb + pg_ctl from the local PostgreSQL binaries, in a temp dir removed at exit."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = shutil.which("initdb") or (bins[-1] if bins else None)
    if initdb is None:
        raise RuntimeError("no PostgreSQL server answers and no initdb binary was found")
    bindir = os.path.dirname(initdb)
    data = tempfile.mkdtemp(prefix="praevcase-pg-")
    port = _free_port()
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    if run_as:
        shutil.chown(data, "postgres")
    subprocess.run([*run_as, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run([*run_as, f"{bindir}/pg_ctl", "-D", data, "-w", "-l", f"{data}/log", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off", "start"],
                   check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)

    atexit.register(stop)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    for _ in range(50):
        if _answers(url):
            return url
        time.sleep(0.1)
    raise RuntimeError("the throwaway PostgreSQL cluster did not come up")


def server_url() -> str:
    """URL of a reachable server. Under CI=true a missing database is a failure, never a skip."""
    url = os.environ.get("PRAEVCASE_TEST_DATABASE_URL", DEFAULT_URL)
    if _answers(url):
        return url
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(f"CI=true and PostgreSQL does not answer at {url}")
    return _throwaway_cluster()


def fresh_database(url: str, name: str) -> str:
    """Drop and create database *name* on the server of *url*; return its URL."""
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def drop_database(url: str, name: str) -> None:
    """Drop database *name* on the server of *url* (end of a test run)."""
    try:
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.OperationalError:
        pass  # a throwaway cluster may already be gone


def run_scoped(name: str) -> str:
    """*name* made unique for this test run and worker (parallel runs share one server)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", _RUN)[:10]
    return f"{name}_{run}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


_RUN = __import__("uuid").uuid4().hex
