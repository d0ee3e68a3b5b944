"""``flask --app wsgi reminders sweep|deliver``: the scheduler's jobs for cron or by hand."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from praevcase.database import utcnow

cli = AppGroup("reminders",
               help="Erinnerungen: fällige erzeugen und E-Mails versenden (per cron statt des Schedulers).")


def _now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise click.BadParameter("bitte mit Zeitzone angeben, z. B. 2027-05-01T08:00+02:00")
    return parsed


@cli.command("sweep")
@click.option("--now", "now_text", default=None, help="Zeitpunkt statt jetzt (ISO 8601 mit Zeitzone; für Tests)")
def sweep_cmd(now_text: str | None) -> None:
    """Create due reminders, cancel those whose reason is gone, queue e-mails (idempotent)."""
    from praevcase.reminders.jobs import run_sweep

    click.echo(f"Erinnerungen: {run_sweep(now=_now(now_text))}")


@cli.command("deliver")
@click.option("--now", "now_text", default=None, help="Zeitpunkt statt jetzt (ISO 8601 mit Zeitzone; für Tests)")
def deliver_cmd(now_text: str | None) -> None:
    """Send the e-mails waiting in the outbox (SMTP, or the file sink without PRAEVCASE_SMTP_URL)."""
    from praevcase.reminders.jobs import run_deliver

    click.echo(f"E-Mails versendet: {run_deliver(now=_now(now_text))}")
