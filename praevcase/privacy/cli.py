"""Command line of the data-protection core.

``flask privacy retention [--dry-run]`` and ``flask privacy reapply-erasures``;
``flask keys generate | add-kek | rotate | retire`` (the keyring lives outside the database).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from consent.crypto import Keyring
from consent.errors import KeyringError
from consent.errors import UnknownKey
from praevcase.audit.operations import record
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import set_scope

cli = AppGroup("privacy", help="Datenschutz: Löschfristen, Löschnachweise nach einer Wiederherstellung.")
keys_cli = AppGroup("keys", help="Schlüsselbund (außerhalb der Datenbank): erzeugen, rotieren, stilllegen.")


# --- privacy --------------------------------------------------------------------------------------


@cli.command("retention")
@click.option("--dry-run", is_flag=True, help="nur anzeigen, was fällig ist; nichts löschen")
@click.option("--tenant", "slug", default=None, help="nur dieser Mandant (Kurzname)")
def retention_cmd(dry_run: bool, slug: str | None) -> None:
    """Erase every family whose retention period has run out (idempotent; one commit per tenant)."""
    from praevcase.privacy.retention import run_retention

    set_scope(db.session, ALL_TENANTS)
    total, seen = 0, False
    verb = "fällig" if dry_run else "gelöscht"
    for result in run_retention(now=utcnow(), dry_run=dry_run, slug=slug):
        seen = True
        total += len(result.due)
        shown = ", ".join(result.due[:20]) + (" …" if len(result.due) > 20 else "")
        click.echo(f"{result.tenant_slug}: {len(result.due)} Familie(n) {verb}" + (f": {shown}" if result.due else ""))
    if slug and not seen:
        raise click.ClickException(f"Unbekannter Mandant: {slug}")
    click.echo(f"Zusammen: {total} Familie(n) {'fällig (Probelauf, nichts gelöscht)' if dry_run else 'gelöscht'}")


@cli.command("reapply-erasures")
def reapply_erasures_cmd() -> None:
    """After restoring a backup: erase again every family named in the tombstone file."""
    from praevcase.privacy.erasure import reapply_erasures

    set_scope(db.session, ALL_TENANTS)
    config = current_app.config
    result = reapply_erasures(now=utcnow(), path=config.get("TOMBSTONE_FILE"), key=config["CHECKPOINT_KEY"])
    db.session.commit()
    click.echo(f"Erneut gelöscht: {result.reapplied}; bereits gelöscht: {result.already}; "
               f"nicht in dieser Datenbank: {result.absent}")
    if result.bad_lines:
        click.echo(f"WARNUNG: {result.bad_lines} Zeile(n) der Löschnachweisdatei ohne gültige Signatur übergangen",
                   err=True)
        raise SystemExit(1)


# --- keys -----------------------------------------------------------------------------------------


@keys_cli.command("generate")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def generate_keyring_cmd(path: str) -> None:
    """Write a new keyring (mode 600) for PRAEVCASE_KEYRING_FILE. Keep a copy apart from database backups."""
    if os.path.exists(path):
        raise click.ClickException(f"{path} existiert bereits; ein Schlüsselbund wird nie überschrieben.")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(Keyring.generate().to_json())
    click.echo(f"Schlüsselbund geschrieben: {path}")


def _keyring_path(path: str | None) -> Path:
    path = path or current_app.config.get("KEYRING_FILE")
    if not path:
        raise click.ClickException("Der Schlüsselbund kommt aus PRAEVCASE_KEYRING (keine Datei): "
                                   "bitte --file angeben und die Variable danach aktualisieren.")
    return Path(path)


def _load(path: Path) -> Keyring:
    try:
        return Keyring.from_file(path)
    except KeyringError as e:
        raise click.ClickException(str(e)) from None


def _audit(action: str, details: dict) -> None:
    set_scope(db.session, ALL_TENANTS)
    record(db.session, action, now=utcnow(), object_type="keyring", details=details)
    db.session.commit()


@keys_cli.command("add-kek")
@click.option("--file", "path", default=None, help="Schlüsselbund-Datei (Standard: die der Konfiguration)")
@click.option("--key-id", default=None, help="Kennung des neuen Schlüssels (Standard: k<n>)")
def add_kek_cmd(path: str | None, key_id: str | None) -> None:
    """Add a new key-encryption key and make it active; older keys stay for unwrapping.

    Then restart every web worker (they load the keyring at start) and run `flask keys rotate`.
    """
    file = _keyring_path(path)
    try:
        ring = _load(file).with_new_active(key_id)
    except KeyringError as e:
        raise click.ClickException(str(e)) from None
    ring.to_file(file)
    _audit("keys.add", {"kek": ring.active_id})
    click.echo(f"Neuer aktiver Schlüssel {ring.active_id} in {file} (Modus 600). Jetzt alle Prozesse neu starten "
               f"und `flask --app wsgi keys rotate` ausführen.")


@keys_cli.command("rotate")
@click.option("--batch", default=500, show_default=True, help="Familien je Transaktion")
@click.option("--pause", default=0.0, show_default=True, help="Sekunden Pause zwischen zwei Stapeln")
def rotate_cmd(batch: int, pause: float) -> None:
    """Re-wrap every family and tenant key under the active KEK, online and resumable."""
    from praevcase.privacy.rotation import RotationCursor
    from praevcase.privacy.rotation import families_left
    from praevcase.privacy.rotation import rotate_family_batch
    from praevcase.privacy.rotation import rotate_tenant_keys

    set_scope(db.session, ALL_TENANTS)
    cursor = RotationCursor()
    active = current_app.config["KEYRING"].active_id
    try:
        tenants = rotate_tenant_keys(now=utcnow())
        db.session.commit()
        moved, idle = 0, 0
        while True:
            n = rotate_family_batch(batch=batch, now=utcnow(), cursor=cursor)
            db.session.commit()
            moved += n
            if n:
                click.echo(f"  {moved} Familienschlüssel umgeschlüsselt …")
                idle = 0
            elif families_left() == 0:
                break
            else:  # rows locked by someone else right now: come back to them
                idle += 1
                if idle > 50:
                    raise click.ClickException("Einige Familien sind dauerhaft gesperrt; bitte später erneut starten.")
                time.sleep(0.2)
            if pause:
                time.sleep(pause)
    except UnknownKey as e:
        raise click.ClickException(f"{e}: der Schlüsselbund dieses Prozesses ist älter als die Daten") from None
    click.echo(f"Fertig: {tenants} Mandanten- und {moved} Familienschlüssel auf {active}.")


@keys_cli.command("retire")
@click.argument("key_id")
@click.option("--file", "path", default=None, help="Schlüsselbund-Datei (Standard: die der Konfiguration)")
def retire_cmd(key_id: str, path: str | None) -> None:
    """Drop a key-encryption key for good — refused while any stored key is still wrapped under it."""
    from praevcase.privacy.rotation import references

    file = _keyring_path(path)
    ring = _load(file)
    set_scope(db.session, ALL_TENANTS)
    refs = references(key_id)
    db.session.rollback()
    try:
        ring = ring.retire(key_id, references=refs)
    except (KeyringError, UnknownKey) as e:
        raise click.ClickException(f"{e}. Erst `flask --app wsgi keys rotate` ausführen." if refs else str(e)) from None
    ring.to_file(file)
    _audit("keys.retire", {"kek": key_id})
    click.echo(f"Schlüssel {key_id} stillgelegt (das Schlüsselmaterial ist aus {file} entfernt).")
