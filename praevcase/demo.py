"""The demo tenant "Kreis Düren (Demo)": agencies and one user per role, no real data."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.operations import create_user
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped
from praevcase.tenancy import set_scope
from praevcase.tenants.models import AgencyKind
from praevcase.tenants.models import Tenant
from praevcase.tenants.operations import create_agency
from praevcase.tenants.operations import create_tenant
from praevcase.transitions.demo import load_transition_demo

DEMO_SLUG = "kreis-dueren-demo"
DEMO_PASSWORD = "demo-passwort-2026"
SOZIALRAEUME = ["Düren-Nord", "Düren-Süd", "Jülich", "Kreuzau", "Nideggen"]

AGENCIES = [
    ("Jobcenter Kreis Düren", AgencyKind.jobcenter, "Düren-Nord"),
    ("Gesundheitsamt Kreis Düren", AgencyKind.gesundheitsamt, "Düren-Süd"),
    ("Jugendamt Kreis Düren", AgencyKind.jugendamt, "Düren-Süd"),
    ("Präventionsbüro Kreis Düren", AgencyKind.praeventionsbuero, "Düren-Süd"),
    ("Kita Sonnenblume", AgencyKind.kita, "Düren-Nord"),
    ("Grundschule Am Rurufer", AgencyKind.grundschule, "Düren-Nord"),
    ("Gesamtschule Düren", AgencyKind.weiterfuehrende_schule, "Düren-Nord"),
    ("Geburtsklinik St. Elisabeth", AgencyKind.geburtsklinik, "Düren-Süd"),
    ("Familienhilfe Rur e. V.", AgencyKind.freier_traeger, "Jülich"),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: Role
    agency: str


LOGINS = [
    DemoLogin("erstkontakt@demo.praevcase.test", "Aylin Demir", Role.intake, "Jobcenter Kreis Düren"),
    DemoLogin("praeventionskraft@demo.praevcase.test", "Dr. Lena Hoffmann", Role.team_member,
              "Gesundheitsamt Kreis Düren"),
    DemoLogin("koordination@demo.praevcase.test", "Markus Wagner", Role.coordinator, "Präventionsbüro Kreis Düren"),
    DemoLogin("kita@demo.praevcase.test", "Sabine Becker", Role.school_staff, "Kita Sonnenblume"),
    DemoLogin("grundschule@demo.praevcase.test", "Petra Schneider", Role.school_staff, "Grundschule Am Rurufer"),
    DemoLogin("gesamtschule@demo.praevcase.test", "Yusuf Arslan", Role.school_staff, "Gesamtschule Düren"),
    DemoLogin("datenschutz@demo.praevcase.test", "Katrin Meyer", Role.dpo, "Präventionsbüro Kreis Düren"),
    DemoLogin("admin@demo.praevcase.test", "Thomas Schulz", Role.admin, "Präventionsbüro Kreis Düren"),
    DemoLogin("statistik@demo.praevcase.test", "Jonas Keller", Role.statistics, "Jugendamt Kreis Düren"),
]


def load_demo() -> tuple[Tenant, bool]:
    """Create the demo tenant unless it exists; returns (tenant, created). Caller commits."""
    now = utcnow()
    with scoped(db.session, ALL_TENANTS):
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == DEMO_SLUG))
    if tenant is not None:
        _load_cases(tenant)  # an older demo database gets the case demo too
        set_scope(db.session, tenant.id)
        load_transition_demo(tenant, now=now)
        _load_sessions(tenant)
        return tenant, False
    tenant = create_tenant(slug=DEMO_SLUG, name="Kreis Düren (Demo)", case_prefix="DN", is_demo=True,
                           settings={"sozialraeume": SOZIALRAEUME}, now=now)
    set_scope(db.session, tenant.id)
    agencies = {name: create_agency(tenant, name=name, kind=kind, sozialraum=sr, actor=None, now=now)
                for name, kind, sr in AGENCIES}
    for login in LOGINS:
        create_user(tenant=tenant, agency=agencies[login.agency], email=login.email, display_name=login.name,
                    roles={login.role}, password=DEMO_PASSWORD, actor=None, now=now)
    _load_cases(tenant)
    load_transition_demo(tenant, now=now)
    _load_sessions(tenant)
    return tenant, True


def _load_cases(tenant: Tenant) -> None:
    """Consent template and demo cases (praevcase.cases.demo); a no-op when they exist."""
    from praevcase.cases.demo import load_demo_cases

    load_demo_cases(tenant, DEMO_PASSWORD)


def _load_sessions(tenant: Tenant) -> None:
    """Offers catalogue, prevention team and the coming sessions (praevcase.sessions.demo); only what is missing."""
    from praevcase.sessions.demo import load_demo_sessions

    load_demo_sessions(tenant, DEMO_PASSWORD)


def demo_users() -> list[User]:
    with scoped(db.session, ALL_TENANTS):
        return list(db.session.scalars(sa.select(User).where(User.email.in_([lg.email for lg in LOGINS]))))
