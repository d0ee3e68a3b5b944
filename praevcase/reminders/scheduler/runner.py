"""Leader election on a PostgreSQL advisory lock, and the APScheduler that runs while leading.

The lock is taken with ``pg_try_advisory_lock`` on a connection of its own that lives as long as
the leadership: when the process dies, PostgreSQL ends the session and releases the lock, and a
standby copy (retrying every few seconds) takes over. The lock only decides who runs; correctness
of a double run comes from the jobs themselves (dedupe keys, SKIP LOCKED).

APScheduler 3.x must never share a job store between processes (measured on 3.11: a job ran
twice and the other scheduler thread died silently), so every process has its own MemoryJobStore
with code-defined jobs and explicit ids.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import Any

import psycopg
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.engine import make_url

from praevcase.audit.verify import write_checkpoints
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.privacy.retention import run_retention
from praevcase.reminders.jobs import run_deliver
from praevcase.reminders.jobs import run_sweep
from praevcase.reminders.windows import TIMEZONE
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import set_scope

log = logging.getLogger("praevcase.scheduler")

#: Audit checkpoints: the window in which a cut tail of the audit log could go unnoticed
CHECKPOINT_MINUTES = 5
#: The retention job runs once a day at this local time (the reminder ``retention_due`` warns ahead)
RETENTION_AT = {"hour": 2, "minute": 30}


def audit_checkpoint(*, now: datetime) -> int:
    """Sign the moved audit-chain heads into the checkpoint file (praevcase.audit.verify)."""
    set_scope(db.session, ALL_TENANTS)
    written = write_checkpoints(now)
    db.session.rollback()  # read-only; ends the transaction
    return written


def retention(*, now: datetime) -> int:
    """Erase the families whose retention period ran out, every tenant (praevcase.privacy.retention)."""
    set_scope(db.session, ALL_TENANTS)
    erased = sum(result.erased for result in run_retention(now=now))
    log.info("retention: %d family(ies) erased", erased)
    return erased

#: The advisory lock key of the scheduler (bigint; "praevsch" in ASCII)
LOCK_KEY = int.from_bytes(b"praevsch", "big")


def libpq_url(sqlalchemy_url: str) -> str | None:
    """A libpq URL for psycopg.connect, or None when the database is not PostgreSQL."""
    url = make_url(sqlalchemy_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Runner:
    """One scheduler process: stands by until it holds the lock, then runs the jobs until it loses it."""

    def __init__(self, app: Flask, *, sweep_seconds: float, deliver_seconds: float, standby_retry: float) -> None:
        self.app = app
        self.sweep_seconds = sweep_seconds
        self.deliver_seconds = deliver_seconds
        self.standby_retry = standby_retry
        self.url = libpq_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.conn: psycopg.Connection[Any] | None = None
        self.scheduler: BlockingScheduler | None = None
        self.stopping = threading.Event()

    # --- the lock -------------------------------------------------------------------------------

    def _close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
        self.conn = None

    def acquire(self) -> bool:
        """Try once to become leader (True: the lock is held on self.conn)."""
        if self.url is None:
            return True  # embedded SQLite: one host, one process; nothing to elect
        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(self.url, autocommit=True, application_name="praevcase-scheduler",
                                            connect_timeout=10)
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            return bool(row and row[0])
        except psycopg.Error as e:
            log.warning("scheduler: database not reachable (%s); retrying", type(e).__name__)
            self._close()
            return False

    def lock_alive(self) -> bool:
        """The lock lives as long as its session: check the session still answers."""
        if self.url is None:
            return True
        try:
            return self.conn is not None and self.conn.execute("SELECT 1").fetchone() is not None
        except psycopg.Error:
            return False

    # --- running --------------------------------------------------------------------------------

    def run(self) -> None:
        """Stand by or lead until SIGTERM/SIGINT."""
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # one line per job run is noise
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        announced = False
        while not self.stopping.is_set():
            if not self.acquire():
                if not announced:
                    log.info("scheduler: standby (pid %d); another process holds the lock", os.getpid())
                    announced = True
                self.stopping.wait(self.standby_retry)
                continue
            log.info("scheduler: leader (pid %d)", os.getpid())
            announced = False
            self.lead()
            self._close()  # releases the lock (if it was not lost already)
        log.info("scheduler: stopped (pid %d)", os.getpid())

    def lead(self) -> None:
        """Run APScheduler until it is shut down (signal, or the lock's session was lost)."""
        now = datetime.now(TIMEZONE)
        scheduler = BlockingScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=3)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(max(self.sweep_seconds, self.deliver_seconds)) + 1},
            timezone=TIMEZONE,
        )
        scheduler.add_job(self._job, "interval", seconds=self.sweep_seconds, id="reminders.sweep",
                          name="reminders.sweep", args=[run_sweep], next_run_time=now)
        scheduler.add_job(self._job, "interval", seconds=self.deliver_seconds, id="reminders.deliver",
                          name="reminders.deliver", args=[run_deliver],
                          next_run_time=now + timedelta(seconds=min(1.0, self.deliver_seconds)))
        if self.app.config.get("CHECKPOINT_FILE"):
            scheduler.add_job(self._job, "interval", minutes=CHECKPOINT_MINUTES, id="audit.checkpoint",
                              name="audit.checkpoint", args=[audit_checkpoint], next_run_time=now)
        scheduler.add_job(self._job, "cron", id="privacy.retention", name="privacy.retention", args=[retention],
                          **RETENTION_AT)
        scheduler.add_job(self._watch, "interval", seconds=self.standby_retry, id="scheduler.lock_watch",
                          name="scheduler.lock_watch")
        self.scheduler = scheduler
        if self.stopping.is_set():
            return
        scheduler.start()  # blocks until shutdown()
        self.scheduler = None

    def _job(self, func: Callable[..., Any]) -> None:
        with self.app.app_context():
            try:
                func(now=utcnow())
            except Exception:
                log.exception("scheduler: job %s failed; it runs again at its next time", func.__name__)
                db.session.rollback()

    def _watch(self) -> None:
        if not self.lock_alive():
            log.error("scheduler: lost the database session holding the lock; standing down")
            self._shutdown(wait=False)

    def _shutdown(self, *, wait: bool) -> None:
        scheduler = self.scheduler
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=wait)

    def _on_signal(self, signum: int, frame: Any) -> None:
        log.info("scheduler: signal %d, stopping", signum)
        self.stopping.set()
        self._shutdown(wait=False)
