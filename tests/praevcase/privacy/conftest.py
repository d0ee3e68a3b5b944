"""A small world for data-protection tests: one family, three agencies, a consent template."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from praevcase.accounts.models import Role
from praevcase.privacy import operations as ops
from praevcase.privacy.models import PersonRole
from praevcase.tenancy import set_scope
from praevcase.tenants.models import AgencyKind
from tests.factories import AgencyFactory
from tests.factories import TenantFactory
from tests.factories import UserFactory

CANARY_NAME = "Zyxwvutsrq"
CANARY_DIAGNOSIS = "Qwertzuiop-Syndrom"

PURPOSE_TEXTS = {
    "team_review": "Der Fall darf im Präventionsteam besprochen werden.",
    "lotse_support": "Eine Lotsin oder ein Lotse darf uns begleiten.",
    "referral": "Angebote dürfen vermittelt werden.",
}


@dataclass
class World:
    tenant: object
    jobcenter: object
    gesundheitsamt: object
    jugendamt: object
    intake: object  # Jobcenter, collected the data
    health: object  # Gesundheitsamt, recipient once consent names it
    youth: object  # Jugendamt, never named
    dpo: object
    family: object
    child: object
    mother: object
    template: object


@pytest.fixture
def checkpoint_file(tmp_path):
    return tmp_path / "audit-checkpoints.log"


@pytest.fixture
def tombstone_file(tmp_path):
    return tmp_path / "erasure-tombstones.log"


@pytest.fixture
def app_config(database_url, keyring, checkpoint_file, tombstone_file):
    from tests.conftest import _config

    return _config(database_url, keyring, CHECKPOINT_FILE=str(checkpoint_file), TOMBSTONE_FILE=str(tombstone_file))


@pytest.fixture
def world(app_ctx, now) -> World:
    return make_world(now)


@pytest.fixture
def web_world(app, now) -> World:
    """The same world, committed in its own app context, for tests that send requests."""
    from tests.conftest import arrange

    with arrange(app):
        w = make_world(now)
    return w  # noqa: RET504 - returned once the block has committed


def make_world(now) -> World:
    from praevcase.extensions import db

    tenant = TenantFactory()
    jc = AgencyFactory(tenant=tenant, name="Jobcenter", kind=AgencyKind.jobcenter)
    ga = AgencyFactory(tenant=tenant, name="Gesundheitsamt", kind=AgencyKind.gesundheitsamt)
    ja = AgencyFactory(tenant=tenant, name="Jugendamt", kind=AgencyKind.jugendamt)
    intake = UserFactory(agency=jc, roles=[Role.intake])
    health = UserFactory(agency=ga, roles=[Role.team_member])
    youth = UserFactory(agency=ja, roles=[Role.team_member])
    dpo = UserFactory(agency=jc, roles=[Role.dpo])
    set_scope(db.session, tenant.id)
    family = ops.create_family(tenant, holder_agency=jc, sozialraum="Nord", actor=intake, now=now)
    child = ops.add_person(family, role=PersonRole.child, given_name="Emre", family_name=CANARY_NAME,
                           birth_date=date(2021, 3, 14), languages="Türkisch", now=now)
    mother = ops.add_person(family, role=PersonRole.guardian, given_name="Ayşe", family_name=CANARY_NAME,
                            address="Rurstraße 1, 52349 Düren", phone="0170 1234567", has_custody=True, now=now)
    template = ops.create_template(tenant, key="praeventionsteam", version=1, language="de",
                                   title="Einwilligung in die Datenweitergabe", body="Volltext …",
                                   plain_body="In einfacher Sprache …", purpose_texts=PURPOSE_TEXTS,
                                   actor=intake, now=now)
    db.session.flush()
    return World(tenant, jc, ga, ja, intake, health, youth, dpo, family, child, mother, template)
