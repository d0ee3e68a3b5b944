"""``flask audit verify`` and ``flask audit checkpoint``: the chain check and its external anchor."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from praevcase.audit.verify import ChainReport
from praevcase.audit.verify import verify_app_chains
from praevcase.audit.verify import write_checkpoints
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import set_scope

cli = AppGroup("audit", help="Zugriffsprotokoll: Hash-Ketten prüfen und signierte Kontrollpunkte schreiben.")


def chain_line(c: ChainReport) -> str:
    """One line per chain: ``<chain>  intakt …`` or ``<chain>  GEBROCHEN bei seq n (problem) …``."""
    cp = f", Kontrollpunkt seq {c.checkpoint_seq}" if c.checkpoint_seq else ", kein Kontrollpunkt"
    if c.intact:
        return f"{c.chain}  intakt: {c.result.total} Ereignisse{cp}"
    return (f"{c.chain}  GEBROCHEN bei seq {c.result.broken_at} ({c.result.problem}: {c.problem_label}); "
            f"{c.result.verified} von {c.result.total} Ereignissen bestätigt{cp}")


def _tenant_id(slug: str | None):
    if slug is None:
        return None
    from praevcase.tenants.models import Tenant

    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"Unbekannter Mandant: {slug}")
    return tenant.id


@cli.command("verify")
@click.option("--tenant", "slug", default=None, help="nur die Ketten dieses Mandanten (Kurzname)")
def verify_cmd(slug: str | None) -> None:
    """Verify every audit chain against itself, its head and the signed checkpoint file.

    Prints one line per chain and a summary; exits with status 1 if anything is broken.
    """
    set_scope(db.session, ALL_TENANTS)
    # safe while the app appends: heads are read before the rows, so new rows only extend a chain
    report = verify_app_chains(db.session, tenant_id=_tenant_id(slug))
    db.session.rollback()
    for chain in report.chains:
        click.echo(chain_line(chain))
    if report.bad_checkpoint_lines:
        click.echo(f"Kontrollpunktdatei: {report.bad_checkpoint_lines} Zeile(n) mit ungültiger Signatur oder Form")
    verdict = "alle intakt" if report.intact else f"{len(report.broken)} Kette(n) GEBROCHEN"
    click.echo(f"Geprüft: {len(report.chains)} Ketten, {report.events} Ereignisse in {report.seconds:.2f} s "
               f"({report.events_per_second:,.0f} Ereignisse/s): {verdict}")
    if not report.intact:
        raise SystemExit(1)


@cli.command("checkpoint")
def checkpoint_cmd() -> None:
    """Append a signed checkpoint for every chain head that moved to the checkpoint file."""
    set_scope(db.session, ALL_TENANTS)
    written = write_checkpoints(utcnow())
    db.session.rollback()
    click.echo(f"{written} Kontrollpunkt(e) geschrieben: {current_app.config['CHECKPOINT_FILE']}")
