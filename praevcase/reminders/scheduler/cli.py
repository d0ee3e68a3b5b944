"""``flask --app wsgi scheduler run``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

cli = AppGroup("scheduler", help="Der Scheduler-Prozess (genau einer aktiv, weitere in Bereitschaft).")


@cli.command("run")
@click.option("--sweep-seconds", default=60.0, show_default=True, help="Abstand der Erinnerungs-Läufe")
@click.option("--deliver-seconds", default=30.0, show_default=True, help="Abstand der E-Mail-Läufe")
@click.option("--standby-retry", default=5.0, show_default=True,
              help="Sekunden zwischen den Versuchen einer Bereitschafts-Kopie, die Führung zu übernehmen")
def run_cmd(sweep_seconds: float, deliver_seconds: float, standby_retry: float) -> None:
    """Run the scheduler: leader while holding the advisory lock, otherwise stand by."""
    from praevcase.reminders.scheduler.runner import Runner

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    Runner(app, sweep_seconds=sweep_seconds, deliver_seconds=deliver_seconds, standby_retry=standby_retry).run()
