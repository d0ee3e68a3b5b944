"""A small world for transition tests: one tenant's Kitas and schools, their staff, another tenant."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any

import pytest

from praevcase.accounts.models import Role
from praevcase.privacy.models import ConsentChannel
from praevcase.tenancy import set_scope
from praevcase.tenants.models import AgencyKind
from praevcase.transitions import operations as ops
from praevcase.transitions.content import content_schema
from praevcase.transitions.models import ProtocolKind
from tests.factories import AgencyFactory
from tests.factories import TenantFactory
from tests.factories import UserFactory

CANARY_GIVEN = "Xaverine"
CANARY_FAMILY = "Qwertzhuber"
CANARY_NOTE = "Zyxwvu-Beobachtung"


@dataclass
class World:
    tenant: Any
    kita: Any
    kita2: Any
    gs: Any
    gs2: Any
    ws1: Any
    ws2: Any
    kita_staff: Any
    kita2_staff: Any
    gs_staff: Any
    gs2_staff: Any
    ws1_staff: Any
    ws2_staff: Any
    admin: Any
    coordinator: Any
    other_tenant: Any
    other_kita_staff: Any

    def staff_of(self, agency: Any) -> Any:
        return {self.kita.id: self.kita_staff, self.kita2.id: self.kita2_staff, self.gs.id: self.gs_staff,
                self.gs2.id: self.gs2_staff, self.ws1.id: self.ws1_staff, self.ws2.id: self.ws2_staff}[agency.id]


def build_world(settings: dict[str, Any] | None = None) -> World:
    from praevcase.extensions import db
    from praevcase.tenants.settings import effective_settings

    tenant = TenantFactory(settings=effective_settings({"sozialraeume": ["Nord", "Süd"], **(settings or {})}))
    a = {name: AgencyFactory(tenant=tenant, name=name, kind=kind) for name, kind in [
        ("Kita Sonnenblume", AgencyKind.kita), ("Kita Regenbogen", AgencyKind.kita),
        ("Grundschule Am Rurufer", AgencyKind.grundschule), ("Grundschule Nord", AgencyKind.grundschule),
        ("Gesamtschule Düren", AgencyKind.weiterfuehrende_schule),
        ("Gymnasium Am Wall", AgencyKind.weiterfuehrende_schule),
        ("Präventionsbüro", AgencyKind.praeventionsbuero)]}
    staff = {name: UserFactory(agency=agency, roles=[Role.school_staff]) for name, agency in a.items()
             if agency.kind is not AgencyKind.praeventionsbuero}
    other = TenantFactory()
    other_kita = AgencyFactory(tenant=other, name="Kita Anderswo", kind=AgencyKind.kita)
    world = World(
        tenant=tenant, kita=a["Kita Sonnenblume"], kita2=a["Kita Regenbogen"], gs=a["Grundschule Am Rurufer"],
        gs2=a["Grundschule Nord"], ws1=a["Gesamtschule Düren"], ws2=a["Gymnasium Am Wall"],
        kita_staff=staff["Kita Sonnenblume"], kita2_staff=staff["Kita Regenbogen"],
        gs_staff=staff["Grundschule Am Rurufer"], gs2_staff=staff["Grundschule Nord"],
        ws1_staff=staff["Gesamtschule Düren"], ws2_staff=staff["Gymnasium Am Wall"],
        admin=UserFactory(agency=a["Präventionsbüro"], roles=[Role.admin]),
        coordinator=UserFactory(agency=a["Präventionsbüro"], roles=[Role.coordinator]),
        other_tenant=other, other_kita_staff=UserFactory(agency=other_kita, roles=[Role.school_staff]))
    set_scope(db.session, tenant.id)
    return world


@pytest.fixture
def world(app_ctx) -> World:
    return build_world()


# --- helpers shared by the transition tests ----------------------------------------------------------

U1_FORM = {"level_bewegung": "sicher_altersgemaess", "note_bewegung": CANARY_NOTE,
           "level_sprache_und_kommunikation": "braucht_unterstuetzung", "support": "Sprachförderung seit 2025",
           "interests": "Bauen, Tiere"}
U2_FORM = {"level_arbeitsverhalten": "ausgepraegt", "note_arbeitsverhalten": CANARY_NOTE,
           "recommendation": "realschule", "reasoning": "Arbeitet ausdauernd."}


def new_protocol(world: World, kind: ProtocolKind, now, *, birth: date = date(2021, 3, 14), receiver: Any = None,
                 school_year: int | None = None, author: Any = None):
    author = author or (world.kita_staff if kind is ProtocolKind.u1 else world.gs_staff)
    return ops.create_protocol(
        kind, child={"given_name": CANARY_GIVEN, "family_name": CANARY_FAMILY, "birth_date": birth},
        guardians=[{"given_name": "Ayla", "family_name": CANARY_FAMILY}],
        receiver_agency_id=receiver.id if receiver is not None else None, school_year=school_year, actor=author,
        now=now)


def save(protocol, actor, now, form: dict | None = None):
    template = ops.current_template(protocol.tenant_id, protocol.kind, now=now)
    data = dict(form or (U1_FORM if protocol.kind is ProtocolKind.u1 else U2_FORM))
    return ops.save_content(protocol, content_schema(protocol.kind, template).load(data), template=template,
                            actor=actor, now=now)


def consent_for(protocol, school: Any, actor: Any, now, *, valid_days: int | None = None):
    guardians = [p.id for p in ops.guardians(protocol)]
    return ops.record_handover_consent(
        protocol, recipient_agency_id=school.id, signatory_ids=guardians, channel=ConsentChannel.written,
        valid_until=now + timedelta(days=valid_days) if valid_days else None, actor=actor, now=now)
