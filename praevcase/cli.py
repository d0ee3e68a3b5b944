"""Command line: tenants, first admin, demo data (``flask --app wsgi …``)."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask.cli import AppGroup

from praevcase.accounts.models import ROLE_LABELS
from praevcase.accounts.models import Role
from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.extensions import db
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import set_scope
from praevcase.tenants.models import Agency
from praevcase.tenants.models import AgencyKind
from praevcase.tenants.models import Tenant

tenants_cli = AppGroup("tenants", help="Mandanten (Kommunen, Kreise) verwalten.")
users_cli = AppGroup("users", help="Benutzerkonten verwalten.")
demo_cli = AppGroup("demo", help="Demo-Mandant 'Kreis Düren (Demo)'.")


def _fail(e: InvalidInput) -> None:
    raise click.ClickException("; ".join(f"{k}: {' '.join(v)}" for k, v in (e.errors or {}).items()) or e.message)


@tenants_cli.command("create")
@click.option("--slug", required=True, help="Kurzname, z. B. kreis-dueren")
@click.option("--name", required=True, help="Name, z. B. 'Kreis Düren'")
@click.option("--prefix", required=True, help="Präfix der Fallnummern, z. B. DN")
@click.option("--demo", is_flag=True, help="Demo-Mandant (Banner, zweiter Faktor optional)")
def create_tenant_cmd(slug: str, name: str, prefix: str, demo: bool) -> None:
    """Create a tenant."""
    from praevcase.tenants.operations import create_tenant

    set_scope(db.session, ALL_TENANTS)
    try:
        tenant = create_tenant(slug=slug, name=name, case_prefix=prefix, is_demo=demo, now=utcnow())
    except InvalidInput as e:
        _fail(e)
    db.session.commit()
    click.echo(f"Mandant angelegt: {tenant.name} ({tenant.slug})")


@users_cli.command("create-admin")
@click.option("--tenant", "slug", required=True, help="Kurzname des Mandanten")
@click.option("--email", required=True)
@click.option("--name", required=True, help="Anzeigename")
@click.option("--agency", default="Präventionsbüro", show_default=True, help="Stelle (wird angelegt, falls neu)")
@click.password_option("--password", help="Passwort (wird abgefragt)")
def create_admin_cmd(slug: str, email: str, name: str, agency: str, password: str) -> None:
    """Create the first admin of a tenant (second factor is set up at first sign-in)."""
    from praevcase.accounts.operations import create_user
    from praevcase.tenants.operations import create_agency

    set_scope(db.session, ALL_TENANTS)
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"Unbekannter Mandant: {slug}")
    set_scope(db.session, tenant.id)
    now = utcnow()
    try:
        agency_row = db.session.scalar(sa.select(Agency).where(Agency.name == agency))
        if agency_row is None:
            agency_row = create_agency(tenant, name=agency, kind=AgencyKind.praeventionsbuero, sozialraum=None,
                                       actor=None, now=now)
        create_user(tenant=tenant, agency=agency_row, email=email, display_name=name, roles={Role.admin},
                    password=password, actor=None, now=now)
    except InvalidInput as e:
        _fail(e)
    db.session.commit()
    click.echo(f"Administrator angelegt: {email}")


def _print_logins() -> None:
    from praevcase.demo import DEMO_PASSWORD
    from praevcase.demo import LOGINS

    click.echo("\nDemo-Zugänge (Mandant 'Kreis Düren (Demo)', Passwort für alle: %s):" % DEMO_PASSWORD)
    for login in LOGINS:
        click.echo(f"  {ROLE_LABELS[login.role]:<32} {login.email:<42} ({login.agency})")


@demo_cli.command("load")
def demo_load_cmd() -> None:
    """Create the demo tenant with its agencies and one user per role (idempotent)."""
    from praevcase.demo import load_demo

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Der Demo-Mandant wird in Produktion nicht angelegt.")
    set_scope(db.session, ALL_TENANTS)
    tenant, created = load_demo()
    db.session.commit()
    click.echo(("Demo-Mandant angelegt: " if created else "Demo-Mandant vorhanden: ") + tenant.name)
    _print_logins()


@demo_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.pass_context
def demo_serve_cmd(ctx: click.Context, host: str, port: int) -> None:
    """Migrate the database, load the demo tenant and serve it: the one-command start."""
    from flask_migrate import upgrade

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("'demo serve' ist nur für die Entwicklung gedacht.")
    upgrade()
    ctx.invoke(demo_load_cmd)
    click.echo(f"\npraevcase läuft auf http://{host}:{port}/  (Strg+C beendet)\n")
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


workflows_cli = AppGroup("workflows", help="Zustandsautomaten (Workflows).")

README_BEGIN = "<!-- workflow-diagrams:begin (generated by: flask --app wsgi workflows diagrams --write) -->"
README_END = "<!-- workflow-diagrams:end -->"


def readme_path():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "README.md"


def readme_with_diagrams(text: str) -> str:
    """*text* with the generated diagrams between the README markers."""
    from workflows.diagrams import all_diagrams

    head, _, rest = text.partition(README_BEGIN)
    _, _, tail = rest.partition(README_END)
    return f"{head}{README_BEGIN}\n{all_diagrams()}{README_END}{tail}"


@workflows_cli.command("diagrams")
@click.option("--write", is_flag=True, help="README.md zwischen den Markierungen aktualisieren")
def diagrams_cmd(write: bool) -> None:
    """Print every workflow as a Mermaid state diagram (or write them into README.md)."""
    from workflows.diagrams import all_diagrams

    if not write:
        click.echo(all_diagrams(), nl=False)
        return
    path = readme_path()
    path.write_text(readme_with_diagrams(path.read_text()))
    click.echo(f"{path} aktualisiert")


def register_cli(app: Flask) -> None:
    """Attach every command group to the app (`keys` lives with the data-protection core)."""
    from praevcase.privacy.cli import keys_cli

    for group in (tenants_cli, users_cli, demo_cli, workflows_cli, keys_cli):
        app.cli.add_command(group)
