"""A small Kreis for case tests: agencies, one user per part they play, a consent template, payloads."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any

import pytest

from praevcase.accounts.models import Role
from praevcase.database import utcnow
from praevcase.privacy import operations as privacy
from praevcase.tenancy import set_scope
from praevcase.tenants.models import AgencyKind
from tests.conftest import arrange
from tests.conftest import bearer
from tests.factories import AgencyFactory
from tests.factories import TenantFactory
from tests.factories import UserFactory

CANARY_GIVEN = "Zyxwan"
CANARY_FAMILY = "Qwertzuiopsen"

PURPOSE_TEXTS = {
    "team_review": "Der Fall darf im Präventionsteam besprochen werden.",
    "lotse_support": "Eine Lotsin oder ein Lotse darf uns begleiten.",
    "referral": "Angebote dürfen vermittelt werden.",
    "health_data_sharing": "Gesundheitsdaten dürfen weitergegeben werden.",
}


@dataclass
class Kreis:
    tenant: Any
    jobcenter: Any
    gesundheitsamt: Any
    jugendamt: Any
    buero: Any
    kita: Any
    klinik: Any
    intake: Any  # Jobcenter, opens cases
    intake2: Any  # Jobcenter, a colleague
    clinic: Any  # Geburtsklinik, opens screenings
    clinic2: Any  # Geburtsklinik, confirms them (four eyes)
    coordinator: Any  # Präventionsbüro
    health: Any  # Gesundheitsamt team member, named in consents, Lotse candidate
    youth: Any  # Jugendamt team member, never named in consents
    kita_member: Any  # Kita team member, never named
    dpo: Any
    template: Any
    app: Any = None

    def token(self, user, roles=None) -> dict[str, str]:
        """Bearer header of a fresh API token of *user* (outside an app context)."""
        return bearer(self.app, user, roles)


def build_kreis(db_session) -> Kreis:
    from praevcase.extensions import db

    tenant = TenantFactory()
    a = {kind: AgencyFactory(tenant=tenant, name=name, kind=kind) for name, kind in [
        ("Jobcenter", AgencyKind.jobcenter), ("Gesundheitsamt", AgencyKind.gesundheitsamt),
        ("Jugendamt", AgencyKind.jugendamt), ("Präventionsbüro", AgencyKind.praeventionsbuero),
        ("Kita Regenbogen", AgencyKind.kita), ("Geburtsklinik", AgencyKind.geburtsklinik)]}
    users = {
        "intake": UserFactory(agency=a[AgencyKind.jobcenter], roles=[Role.intake], display_name="Ina Aufnahme"),
        "intake2": UserFactory(agency=a[AgencyKind.jobcenter], roles=[Role.intake]),
        "clinic": UserFactory(agency=a[AgencyKind.geburtsklinik], roles=[Role.intake]),
        "clinic2": UserFactory(agency=a[AgencyKind.geburtsklinik], roles=[Role.intake]),
        "coordinator": UserFactory(agency=a[AgencyKind.praeventionsbuero], roles=[Role.coordinator]),
        "health": UserFactory(agency=a[AgencyKind.gesundheitsamt], roles=[Role.team_member],
                              display_name="Gesa Lotsin"),
        "youth": UserFactory(agency=a[AgencyKind.jugendamt], roles=[Role.team_member]),
        "kita_member": UserFactory(agency=a[AgencyKind.kita], roles=[Role.team_member]),
        "dpo": UserFactory(agency=a[AgencyKind.jobcenter], roles=[Role.dpo]),
    }
    set_scope(db.session, tenant.id)
    template = privacy.create_template(tenant, key="praeventionsteam", version=1, language="de",
                                       title="Einwilligung", body="Volltext", plain_body="Einfach",
                                       purpose_texts=PURPOSE_TEXTS, actor=users["intake"], now=utcnow())
    db.session.flush()
    return Kreis(tenant, a[AgencyKind.jobcenter], a[AgencyKind.gesundheitsamt], a[AgencyKind.jugendamt],
                 a[AgencyKind.praeventionsbuero], a[AgencyKind.kita], a[AgencyKind.geburtsklinik], template=template,
                 **users)


@pytest.fixture
def kreis(app) -> Kreis:
    """Committed (inside the test's outer transaction), so requests see it."""
    with arrange(app) as session:
        k = build_kreis(session)
    k.app = app
    return k


@pytest.fixture
def kreis_ctx(app_ctx) -> Kreis:
    """For tests that call operations directly inside one app context."""
    from praevcase.extensions import db

    return build_kreis(db.session)


def ago(days: int) -> str:
    """An ISO date *days* before today (validation compares with the real clock)."""
    return (date.today() - timedelta(days=days)).isoformat()


def consent_block(k: Kreis, *, health: bool = False, recipients=None) -> dict[str, Any]:
    return {"status": "given", "template_id": str(k.template.id),
            "purposes": ["team_review", "lotse_support"] + (["health_data_sharing"] if health else []),
            "categories": ["identity", "contact", "family_situation"] + (["health"] if health else []),
            "recipient_agency_ids": [str(x.id) for x in (recipients or [k.buero, k.gesundheitsamt])],
            "channel": "written"}


def jobcenter_payload(k: Kreis, **overrides: Any) -> dict[str, Any]:
    """A valid Jobcenter intake (JSON, as the API takes it)."""
    body = {
        "children": [{"given_name": CANARY_GIVEN, "family_name": CANARY_FAMILY, "birth_date": ago(5 * 365 + 60),
                      "languages": "Türkisch"}],
        "guardians": [{"given_name": "Ayşe", "family_name": CANARY_FAMILY, "address": "Rurstraße 1, 52349 Düren",
                       "phone": "0170 1234567", "has_custody": True}],
        "needs": ["kita_platz", "sprachfoerderung"], "beyond_own_remit": True,
        "observation": "Kommt mit dem Kind zu Terminen am Vormittag.",
        "team_summary": "Kind, 5 Jahre, kein Kita-Platz, spricht kein Deutsch.",
        "observed_on": ago(3), "child_has_daycare": "nein", "german_language": "keine",
        "family_language": "Türkisch", "interpreter_needed": True,
        "consent": consent_block(k),
    }
    body.update(copy.deepcopy(overrides))
    return body


def birth_clinic_payload(k: Kreis, **overrides: Any) -> dict[str, Any]:
    body = jobcenter_payload(k)
    for key in ("observed_on", "child_has_daycare", "german_language", "family_language", "interpreter_needed"):
        body.pop(key)
    body["children"][0]["birth_date"] = ago(3)
    body.update({"screened_on": ago(2), "health_mother": "belastet", "health_father": "nicht_erhoben",
                 "health_child": "unauffaellig", "parental_overload": "hinweise", "pregnancy_experience": "belastend",
                 "screening_notes": "Mutter erschöpft.", "consent": consent_block(k, health=True),
                 "team_summary": "Neugeborenes, Mutter allein und erschöpft."})
    body.update(copy.deepcopy(overrides))
    return body


def kita_payload(k: Kreis, **overrides: Any) -> dict[str, Any]:
    body = birth_clinic_payload(k)
    for key in ("screened_on", "health_mother", "health_father", "health_child", "parental_overload",
                "pregnancy_experience", "screening_notes"):
        body.pop(key)
    body["children"][0]["birth_date"] = ago(3 * 365 + 100)
    body.update({"examined_on": ago(21), "height_cm": 98.5, "weight_kg": 15.2, "vision": "unauffaellig",
                 "hearing": "auffaellig", "vaccination_status": "unvollstaendig", "vaccination_advice_given": True,
                 "language": "auffaellig", "gross_motor": "altersgerecht", "visual_perception": "altersgerecht",
                 "eye_hand_coordination": "grenzwertig", "concentration": "altersgerecht",
                 "attention": "altersgerecht", "emotional_stability": "altersgerecht",
                 "mother_tongue_ability": "eingeschraenkt", "wellbeing": "fröhlich",
                 "last_exam_findings": "U7 unauffällig", "participants": ["kinderaerztin", "eltern"],
                 "team_summary": "Kita-Kind, 3 Jahre, Sprachentwicklung verzögert."})
    body.update(copy.deepcopy(overrides))
    return body


def general_payload(k: Kreis, **overrides: Any) -> dict[str, Any]:
    body = jobcenter_payload(k)
    for key in ("observed_on", "child_has_daycare", "german_language", "family_language", "interpreter_needed"):
        body.pop(key)
    body.update({"channel": "welcome_visit", "contacted_on": ago(4), "setting": "zuhause",
                 "offer_taken_up": True})
    body.update(copy.deepcopy(overrides))
    return body
