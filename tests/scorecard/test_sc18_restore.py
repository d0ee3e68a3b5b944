"""SC-18: backup/restore drill — pg_dump, restore into a fresh database, the audit chain verifies, data
decrypts with the separately backed-up keyring, and no erased family comes back.

The drill on a database of its own with the demo tenant:

1. ``demo load``, audit checkpoint; family A is erased (four eyes → tombstone in the table and the file);
2. backup OLD = ``pg_dump -Fc`` (A erased, B not yet);
3. family B is erased; checkpoint; backup NEW = ``pg_dump -Fc``; the keyring, the checkpoint file and the
   tombstone file are copied to a separate "key backup" folder; the originals are deleted (the host is lost);
4. NEW restored with ``pg_restore`` into a fresh database, the app started with the restored keyring:
   ``audit verify`` is intact against the restored checkpoint file, a sample of persons of every family
   not erased decrypts (dpo, legal basis subject_access), A and B left no person, key or ciphertext;
5. OLD restored into another fresh database: B is back there (the backup predates its erasure) until
   ``flask privacy reapply-erasures`` replays the tombstone file — then neither A nor B has any trace.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest
import sqlalchemy as sa

from consent.crypto import Keyring
from consent.scopes import LegalBasis
from praevcase.database import utcnow
from tests import pg
from tests.conftest import TEST_ARGON2
from tests.scorecard import _serving as srv

SAMPLE = 50  # persons of families not erased (the demo has fewer)


@pytest.fixture
def databases():
    server = pg.server_url()
    names = {k: pg.run_scoped(f"sc_sc18_{k}") for k in ("src", "new", "old")}
    urls = {k: pg.fresh_database(server, n) for k, n in names.items()}
    yield urls
    for n in names.values():
        pg.drop_database(server, n)


def _config(url: str, keyring: Keyring, folder) -> dict:
    return {"TESTING": True, "SECRET_KEY": "sc18-secret-key", "SQLALCHEMY_DATABASE_URI": url, "KEYRING": keyring,
            "CHECKPOINT_KEY": (folder / "checkpoint.key").read_bytes().strip(),
            "CHECKPOINT_FILE": str(folder / "audit-checkpoints.log"),
            "TOMBSTONE_FILE": str(folder / "erasure-tombstones.log"), "ARGON2_PARAMS": TEST_ARGON2}


def _app(config: dict):
    from praevcase import create_app

    return create_app(config)


def _dispose(app) -> None:
    from praevcase.extensions import db

    with app.app_context():
        db.engine.dispose()


def _erase(app, family_id) -> str:
    """Four eyes: the dpo requests, the admin confirms."""
    from praevcase.accounts.models import Role
    from praevcase.accounts.models import User
    from praevcase.extensions import db
    from praevcase.privacy.erasure import confirm_erasure
    from praevcase.privacy.erasure import request_erasure
    from praevcase.privacy.models import ErasureReason
    from praevcase.privacy.models import Family
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        family = db.session.get(Family, family_id)
        set_scope(db.session, family.tenant_id)
        users = db.session.scalars(sa.select(User)).all()
        dpo = next(u for u in users if Role.dpo in u.roles)
        admin = next(u for u in users if Role.admin in u.roles)
        req = request_erasure(family, reason=next(iter(ErasureReason)), note=None, actor=dpo, now=utcnow())
        confirm_erasure(req, actor=admin, now=utcnow())
        number = family.case_number
        db.session.commit()
        return number


def _checkpoint(app) -> None:
    from praevcase.audit.verify import write_checkpoints
    from praevcase.extensions import db
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        assert write_checkpoints(utcnow()) > 0
        db.session.rollback()


def _dump(url: str, path) -> None:
    subprocess.run([srv.pg_bin("pg_dump"), "-Fc", "--no-owner", "-f", str(path), srv.libpq(url)],  # noqa: S603
                   check=True, capture_output=True, timeout=300)


def _restore(path, url: str) -> None:
    subprocess.run([srv.pg_bin("pg_restore"), "--no-owner", "--exit-on-error", "-d", srv.libpq(url), str(path)],  # noqa: S603
                   check=True, capture_output=True, timeout=300)


def _traces(app, family_ids) -> int:
    """Erased families that left anything readable: a person, a family key, or a ciphertext of theirs."""
    from praevcase.extensions import db
    from praevcase.privacy.models import ErasureTombstone
    from praevcase.privacy.models import Family
    from praevcase.privacy.models import Person
    from praevcase.privacy.vault import FIELD_CATEGORIES
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        returned = 0
        for fid in family_ids:
            family = db.session.get(Family, fid)
            persons = db.session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.family_id == fid))
            tomb = db.session.scalar(sa.select(ErasureTombstone.id).where(ErasureTombstone.family_id == fid))
            ciphertext = 0
            for table_name in {t for t, _ in FIELD_CATEGORIES}:
                table = db.metadata.tables.get(table_name)
                cols = [table.c[f"{c}_ct"] for t, c in FIELD_CATEGORIES if t == table_name and f"{c}_ct" in table.c]
                if table is None or "family_id" not in table.c or not cols:
                    continue
                ciphertext += db.session.scalar(sa.select(sa.func.count()).select_from(table).where(
                    table.c.family_id == fid, sa.or_(*[c.isnot(None) for c in cols])))
            if (family is not None and (family.wrapped_key is not None or family.erased_dt is None)) or persons \
                    or ciphertext or tomb is None:
                returned += 1
        db.session.rollback()
        return returned


def _verify_and_decrypt(app) -> tuple[int, bool, int, int]:
    from praevcase.accounts.models import Role
    from praevcase.accounts.models import User
    from praevcase.audit.verify import verify_app_chains
    from praevcase.extensions import db
    from praevcase.privacy.models import PERSON_FIELDS
    from praevcase.privacy.models import Family
    from praevcase.privacy.models import Person
    from praevcase.privacy.vault import reveal
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        report = verify_app_chains(db.session)
        events, intact = report.events, report.intact
        db.session.rollback()
        rows = db.session.execute(sa.select(Family, Person).join(Person, Person.family_id == Family.id)
                                  .where(Family.erased_dt.is_(None)).order_by(Person.id).limit(SAMPLE)).all()
        decrypted = 0
        for family, person in rows:
            set_scope(db.session, family.tenant_id)
            dpo = next(u for u in db.session.scalars(sa.select(User)) if Role.dpo in u.roles)
            values = reveal(family, person, list(PERSON_FIELDS), actor=dpo, purpose=None, now=utcnow(),
                            legal_basis=LegalBasis.subject_access)
            decrypted += any(values.values())  # reveal() raises if any stored ciphertext fails to decrypt
        db.session.commit()
        return events, intact, decrypted, len(rows)


def test_backup_restore_drill(databases, tmp_path, scorecard):
    from flask_migrate import upgrade

    from praevcase.extensions import db
    from praevcase.privacy.models import Family
    from praevcase.privacy.models import Person
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope

    host, keys_backup, dumps = tmp_path / "host", tmp_path / "key-backup", tmp_path / "dumps"
    for d in (host, keys_backup, dumps):
        d.mkdir()
    Keyring.generate("k1").to_file(host / "keyring.json")
    (host / "checkpoint.key").write_text("sc18-checkpoint-key-of-32-bytes-or-more\n")

    # --- production life: demo data, two erasures, two backups ---------------------------------------
    source = _app(_config(databases["src"], Keyring.from_file(host / "keyring.json"), host))
    with source.app_context():
        upgrade()
    loaded = source.test_cli_runner().invoke(args=["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    with source.app_context():
        set_scope(db.session, ALL_TENANTS)
        with_persons = db.session.scalars(sa.select(Family.id).where(
            sa.exists().where(Person.family_id == Family.id)).order_by(Family.id)).all()
        db.session.rollback()
    assert len(with_persons) >= 3
    family_a, family_b = with_persons[0], with_persons[1]
    _checkpoint(source)
    _erase(source, family_a)
    _checkpoint(source)
    _dump(databases["src"], dumps / "old.dump")
    _erase(source, family_b)
    _checkpoint(source)
    _dump(databases["src"], dumps / "new.dump")
    _dispose(source)
    for name in ("keyring.json", "checkpoint.key", "audit-checkpoints.log", "erasure-tombstones.log"):
        shutil.copy2(host / name, keys_backup / name)  # the separate backup of what never goes into a dump
    shutil.rmtree(host)  # the host is lost: only the dumps and the key backup remain
    restored_ring = Keyring.from_file(keys_backup / "keyring.json")

    # --- restore the newest backup --------------------------------------------------------------------
    _restore(dumps / "new.dump", databases["new"])
    new = _app(_config(databases["new"], restored_ring, keys_backup))
    events, intact, decrypted, sampled = _verify_and_decrypt(new)
    returned_new = _traces(new, [family_a, family_b])
    _dispose(new)

    # --- restore the older backup: B comes back until the tombstones are replayed ---------------------
    _restore(dumps / "old.dump", databases["old"])
    old = _app(_config(databases["old"], restored_ring, keys_backup))
    back_before_replay = _traces(old, [family_a, family_b])
    replay = old.test_cli_runner().invoke(args=["privacy", "reapply-erasures"])
    assert replay.exit_code == 0, replay.output
    returned_old = _traces(old, [family_a, family_b])
    again = old.test_cli_runner().invoke(args=["privacy", "reapply-erasures"])  # idempotent
    _dispose(old)

    erased_returned = returned_new + returned_old
    scorecard("SC-18", "verified_events", f"{events} decrypted={decrypted}/{sampled} erased_returned={erased_returned} "
              f"chain_intact={int(intact)} older_backup_resurrected_before_replay={back_before_replay}")
    assert intact and events > 100
    assert decrypted == sampled >= 10
    assert back_before_replay == 1  # family B, erased after the older backup was taken
    assert "Erneut gelöscht: 1" in replay.output and "Erneut gelöscht: 0" in again.output
    assert erased_returned == 0
