"""SC-06: a name, a diagnosis and a birth date stored through the app appear nowhere at rest.

pg_dump cannot see the rolled-back test transaction, so this test migrates a database of its own,
stores and reads through the operations and the pages, commits for real, dumps and greps — the
dump, and everything the app logged at DEBUG meanwhile.
"""
from __future__ import annotations

import glob
import logging
import shutil
import subprocess
from datetime import date
from datetime import timedelta

import pytest
import sqlalchemy as sa

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.database import utcnow
from tests import pg
from tests.conftest import _config
from tests.conftest import get_csrf
from tests.conftest import login_as

CANARIES = ["Zyxwvutsrq", "Qwertzuiop-Syndrom", "2019-07-23", "23.07.2019", "Kanarienweg 7"]


def _pg_dump() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    path = found[-1] if found else shutil.which("pg_dump")
    if path is None:
        pytest.fail("pg_dump is not installed (Debian package postgresql-client)")
    return path


@pytest.fixture
def canary_db():
    server = pg.server_url()
    name = pg.run_scoped("praevcase_canary")  # parallel runs on one server never drop each other's database
    yield pg.fresh_database(server, name)
    pg.drop_database(server, name)


def _capture_everything(caplog) -> None:
    """Alembic's logging set-up replaced the root handlers and disabled existing loggers: undo that."""
    root = logging.getLogger()
    if caplog.handler not in root.handlers:
        root.addHandler(caplog.handler)
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled = False
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "praevcase", "werkzeug", "flask"):
        caplog.set_level(logging.DEBUG, logger=name)


def _store(app, now):
    """Through the operations, as intake will: a family, two persons, a consent with the child's view."""
    from praevcase.extensions import db
    from praevcase.privacy import operations as ops
    from praevcase.privacy.models import ConsentChannel
    from praevcase.privacy.models import PersonRole
    from praevcase.privacy.vault import reveal
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from praevcase.tenants.models import AgencyKind
    from tests.factories import AgencyFactory
    from tests.factories import TenantFactory
    from tests.factories import UserFactory

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        db.session().expire_on_commit = False
        tenant = TenantFactory()
        jc = AgencyFactory(tenant=tenant, name="Jobcenter", kind=AgencyKind.jobcenter)
        ga = AgencyFactory(tenant=tenant, name="Gesundheitsamt", kind=AgencyKind.gesundheitsamt)
        intake = UserFactory(agency=jc, roles=[Role.intake])
        health = UserFactory(agency=ga, roles=[Role.team_member])
        dpo = UserFactory(agency=jc, roles=[Role.dpo])
        admin = UserFactory(agency=jc, roles=[Role.admin])
        family = ops.create_family(tenant, holder_agency=jc, sozialraum="Nord", actor=intake, now=now)
        child = ops.add_person(family, role=PersonRole.child, given_name="Mila", family_name=CANARIES[0],
                               birth_date=date(2019, 7, 23), now=now)
        mother = ops.add_person(family, role=PersonRole.guardian, given_name="Ina", family_name=CANARIES[0],
                                address=CANARIES[4], has_custody=True, now=now)
        template = ops.create_template(tenant, key="team", version=1, language="de", title="Einwilligung",
                                       body="Volltext", plain_body="Einfach",
                                       purpose_texts={"team_review": "Fallberatung"}, actor=intake, now=now)
        ops.record_consent(family, template=template, purposes={Purpose.team_review},
                           categories={DataCategory.identity, DataCategory.health}, recipient_agency_ids={ga.id},
                           signatories=[{"person_id": mother.id}], channel=ConsentChannel.written, actor=intake,
                           now=now, child_view=f"Diagnose: {CANARIES[1]}")
        for actor in (intake, health):
            assert reveal(family, child, ["family_name", "birth_date"], actor=actor, purpose=Purpose.team_review,
                          now=now)["family_name"] == CANARIES[0]
        db.session.commit()
        return family, intake, health, dpo, admin


def test_canaries_appear_neither_in_pg_dump_nor_in_the_logs(canary_db, keyring, tmp_path, caplog, scorecard):
    from flask_migrate import upgrade

    from praevcase import create_app
    from praevcase.extensions import db

    app = create_app(_config(canary_db, keyring, LOG_LEVEL="DEBUG", CHECKPOINT_FILE=str(tmp_path / "cp.log"),
                             TOMBSTONE_FILE=str(tmp_path / "tomb.log")))
    try:
        with app.app_context():
            upgrade()
        _capture_everything(caplog)
        now = utcnow() - timedelta(minutes=5)
        family, intake, health, dpo, admin = _store(app, now)
        pages = 0
        for user, paths in (
            (dpo, ["/", "/datenschutz/einwilligungen", f"/datenschutz/familien/{family.id}", "/protokoll/",
                   f"/datenschutz/familien/{family.id}/auskunft", f"/datenschutz/familien/{family.id}/auskunft.json",
                   f"/datenschutz/familien/{family.id}/auskunft.pdf"]),
            (admin, ["/", "/datenschutz/einwilligungen", "/protokoll/", f"/datenschutz/familien/{family.id}"]),
            (intake, [f"/einwilligungen/familie/{family.id}"]),
        ):
            client = app.test_client()
            login_as(client, app, user)
            for path in paths:
                assert client.get(path).status_code == 200, path
                pages += 1
        client = app.test_client()
        login_as(client, app, dpo)
        token = get_csrf(client, "/protokoll/kette")
        assert client.post("/protokoll/kette", data={"csrf_token": token}).status_code == 200
        with app.app_context():
            from praevcase.audit.models import AuditEvent

            events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        libpq_url = canary_db.replace("postgresql+psycopg://", "postgresql://", 1)
        command = [_pg_dump(), "--no-owner", "--inserts", libpq_url]
        dump = subprocess.run(command, capture_output=True, check=True).stdout  # noqa: S603 - our own arguments
    finally:
        with app.app_context():
            db.engine.dispose()
    assert b"INSERT INTO public.persons" in dump and b"INSERT INTO public.audit_events" in dump
    assert events > 10
    found_in_dump = {c: dump.count(c.encode()) + dump.count(c.encode().hex().encode()) for c in CANARIES}
    found_in_logs = {c: caplog.text.count(c) for c in CANARIES}
    # the logs are worth grepping: SQL statements went there with their parameters (a template text, say)
    assert len(caplog.records) > 100 and "Volltext" in caplog.text
    scorecard("SC-06", "canaries_in_pg_dump", f"{sum(found_in_dump.values())},canaries_in_logs="
              f"{sum(found_in_logs.values())},dump_bytes={len(dump)},pages={pages}")
    assert found_in_dump == dict.fromkeys(CANARIES, 0)
    assert found_in_logs == dict.fromkeys(CANARIES, 0)
