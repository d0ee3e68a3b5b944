"""A Kreis with its prevention team, a small offers catalogue and helpers to bring cases to a session."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import time
from datetime import timedelta
from typing import Any

import pytest

from praevcase.cases import operations as case_ops
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.schemas import JobcenterIntakeIn
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.offers.catalogue import OfferType
from praevcase.offers.operations import create_offer
from praevcase.sessions import operations as ops
from praevcase.sessions.schedule import local
from praevcase.tenancy import set_scope
from tests.conftest import arrange
from tests.praevcase.cases.conftest import Kreis
from tests.praevcase.cases.conftest import build_kreis
from tests.praevcase.cases.conftest import consent_block
from tests.praevcase.cases.conftest import jobcenter_payload

FULL_PURPOSES = ["team_review", "lotse_support", "referral"]
FULL_CATEGORIES = ["identity", "contact", "family_situation", "case_notes"]


@dataclass
class Team:
    kreis: Kreis
    language_offer: Any  # Sprachförderung of the Gesundheitsamt
    parents_offer: Any  # Elternkurs of a free provider (text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kreis, name)


def full_consent(k: Kreis, recipients=None) -> dict[str, Any]:
    """Consent for the team, the Lotse and referrals, with case notes, naming *recipients*."""
    block = consent_block(k, recipients=recipients)
    block.update(purposes=list(FULL_PURPOSES), categories=list(FULL_CATEGORIES))
    return block


_SERIAL = itertools.count(1)


def open_ready_case(k: Kreis, *, recipients=None, canary: bool = False, **overrides: Any):
    """A Jobcenter case whose consent names *recipients* (default: Präventionsbüro and Gesundheitsamt): ready.

    ``canary``: the family carries the canary names of tests.praevcase.cases.conftest; otherwise
    names of its own, so that the duplicate check does not stop the next intake.
    """
    payload = jobcenter_payload(k, consent=full_consent(k, recipients), **overrides)
    if not canary:
        n = next(_SERIAL)
        payload["children"][0].update(given_name=f"Kind{n}", family_name=f"Testfamilie{n}")
        payload["guardians"][0].update(given_name=f"Elter{n}", family_name=f"Testfamilie{n}")
    data = JobcenterIntakeIn().load(payload)
    return case_ops.open_case(k.tenant, IntakeChannel.jobcenter_observation, data, JobcenterIntakeIn.ANSWER_FIELDS,
                              actor=k.intake, now=utcnow())


def seat_team(k: Kreis) -> None:
    now = utcnow()
    for agency, user in ((k.buero, k.coordinator), (k.gesundheitsamt, k.health), (k.jugendamt, k.youth),
                         (k.kita, k.kita_member), (k.jobcenter, None)):
        ops.set_seat(k.tenant, agency.id, user.id if user else None, actor=k.coordinator, now=now)


def new_session(k: Kreis, *, days_ahead: int = 14, hour: int = 14):
    day = local(utcnow()).date() + timedelta(days=days_ahead)
    return ops.create_session(k.tenant, {"day": day, "start_time": time(hour, 0), "duration_minutes": 120,
                                         "place": "Präventionsbüro, Raum 2"}, actor=k.coordinator, now=utcnow())


def build_team(session) -> Team:
    k = build_kreis(session)
    set_scope(db.session, k.tenant.id)
    seat_team(k)
    now = utcnow()
    base = {"description": None, "provider_type": None, "fields_of_action": ["bildung"], "sozialraeume": [],
            "municipality": None, "access": None, "languages": None, "contact": "Tel. 02421 0000",
            "capacity": 10, "waiting_list": False, "standards": [], "source": None, "is_active": True}
    language = create_offer(k.tenant, {**base, "name": "Sprachförderung vor der Einschulung",
                                       "offer_type": OfferType.sprachfoerderung, "age_phases": ["kita"],
                                       "provider_agency_id": k.gesundheitsamt.id, "provider_name": None},
                            actor=k.coordinator, now=now)
    parents = create_offer(k.tenant, {**base, "name": "Elternkurs Starke Eltern", "offer_type": OfferType.elternbildung,
                                      "age_phases": ["kita", "grundschule"], "provider_agency_id": None,
                                      "provider_name": "Kinderschutzbund Düren"}, actor=k.coordinator, now=now)
    db.session.flush()
    return Team(k, language, parents)


def attached(team: Team) -> Team:
    """The team's rows merged into the current session (inside an arrange() block)."""
    fields = {}
    for name, value in vars(team.kreis).items():
        fields[name] = db.session.merge(value, load=True) if isinstance(value, db.Model) else value
    k = Kreis(**fields)
    return Team(k, db.session.merge(team.language_offer), db.session.merge(team.parents_offer))


@pytest.fixture
def team(app) -> Team:
    """Committed (inside the test's outer transaction), so requests see it."""
    with arrange(app) as session:
        t = build_team(session)
    t.kreis.app = app
    return t


@pytest.fixture
def team_ctx(app_ctx) -> Team:
    """For tests that call operations directly inside one app context."""
    return build_team(db.session)
