"""The periodic work, as boundaries that commit: the scheduler, the CLI and cron all call these.

``run_sweep`` runs the features' periodic jobs, then per tenant and kind first the validity pass
(cancel what lost its reason) and then the due-query (create what is new), then queues e-mails.
``run_deliver`` sends the outbox one claimed row per transaction, so a crash can repeat at most
the one e-mail that was on its way (with the same Message-ID).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

import sqlalchemy as sa

from praevcase.extensions import db
from praevcase.reminders import mail
from praevcase.reminders import operations as ops
from praevcase.reminders.registry import JOBS
from praevcase.reminders.registry import load_kinds
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped
from praevcase.tenancy import set_scope
from praevcase.tenants.models import Tenant

log = logging.getLogger("praevcase.reminders")


@dataclass
class SweepReport:
    jobs: dict[str, int] = field(default_factory=dict)
    created: int = 0
    cancelled: int = 0
    notified: int = 0
    digests: int = 0

    def __str__(self) -> str:
        jobs = ", ".join(f"{k}={v}" for k, v in self.jobs.items())
        return (f"created={self.created} cancelled={self.cancelled} notified={self.notified} "
                f"digests={self.digests}{' ' + jobs if jobs else ''}")


def run_sweep(*, now: datetime) -> SweepReport:
    """One idempotent sweep over every tenant; safe to run in several processes at once."""
    kinds = load_kinds()
    report = SweepReport()
    set_scope(db.session, ALL_TENANTS)
    for name, job in JOBS.items():
        report.jobs[name] = job.run(now=now)
        db.session.commit()
    for tenant in db.session.scalars(sa.select(Tenant).order_by(Tenant.id)).all():
        with scoped(db.session, tenant.id):
            ctx = ops.context_for(tenant, now)
            for kind in kinds.values():
                report.cancelled += ops.cancel_invalid(kind, ctx)
                db.session.commit()
                report.created += ops.create_due(kind, ctx)
                db.session.commit()
    while handled := ops.notify_immediately(now=now):
        report.notified += handled
        db.session.commit()
    report.digests = ops.send_digests(now=now)
    db.session.commit()
    log.info("reminder sweep: %s", report)
    return report


def run_deliver(*, now: datetime, transport: mail.Transport | None = None, limit: int | None = None) -> int:
    """Send due e-mails of the outbox until none is left (or *limit*); returns how many were sent."""
    load_kinds()
    set_scope(db.session, ALL_TENANTS)
    transport = transport or mail.transport()
    sent = handled = 0
    postgres = db.session.get_bind().dialect.name == "postgresql"
    while limit is None or handled < limit:
        if postgres:
            # losing this commit in a crash means the same e-mail once more (same Message-ID), which
            # at-least-once delivery allows anyway; not waiting for the WAL flush per e-mail is ~5x faster
            db.session.execute(sa.text("SET LOCAL synchronous_commit = off"))
        claimed = ops.claim_next(now=now)
        if claimed is None:
            break
        sent += ops.deliver(*claimed, now=now, transport=transport)
        handled += 1
        db.session.commit()
    db.session.commit()
    if handled:
        log.info("outbox: %d sent, %d attempted", sent, handled)
    return sent
