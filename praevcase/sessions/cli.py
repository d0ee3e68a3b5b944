"""``flask --app wsgi sessions generate``: create the Schnittstellengespräche of a tenant's cadence ahead."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped
from praevcase.tenancy import set_scope
from praevcase.tenants.models import Tenant

cli = AppGroup("sessions", help="Schnittstellengespräche nach dem Rhythmus des Mandanten anlegen.")


@cli.command("generate")
@click.option("--tenant", "slug", default=None, help="Kurzname des Mandanten (ohne: alle Mandanten)")
@click.option("--months", default=3, show_default=True, type=click.IntRange(1, 24), help="Monate im Voraus")
def generate_cmd(slug: str | None, months: int) -> None:
    """Create the sessions of the cadence for the coming months (idempotent; for cron or by hand)."""
    from praevcase.sessions.operations import generate_sessions

    set_scope(db.session, ALL_TENANTS)
    q = sa.select(Tenant).order_by(Tenant.slug)
    if slug:
        q = q.where(Tenant.slug == slug)
    tenants = list(db.session.scalars(q))
    if slug and not tenants:
        raise click.ClickException(f"Unbekannter Mandant: {slug}")
    now = utcnow()
    for tenant in tenants:
        with scoped(db.session, tenant.id):
            created = generate_sessions(tenant, months=months, actor=None, now=now)
        db.session.commit()
        click.echo(f"{tenant.slug}: {len(created)} Schnittstellengespräch(e) angelegt")
