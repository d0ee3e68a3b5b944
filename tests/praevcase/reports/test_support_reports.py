"""Reports of the review and support phase: cases per session, referrals, sustainability, waiting lists,
days to the Lotse's first contact."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.tokens import create_token
from praevcase.cases.models import Case
from praevcase.database import new_id
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.lotse.models import Contact
from praevcase.lotse.models import ContactSetting
from praevcase.offers.catalogue import OfferType
from praevcase.referrals.models import Referral
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.models import ReviewSession
from tests.conftest import arrange
from tests.praevcase.reports.conftest import at
from workflows.referral import ReferralState
from workflows.review_session import ReviewSessionState

H1 = "period=2026-H1"


def _session(town, starts, cases, state=ReviewSessionState.held):
    session = ReviewSession(id=new_id(), tenant_id=town.tenant.id, created_dt=starts - timedelta(days=30),
                            starts_dt=starts, ends_dt=starts + timedelta(hours=2), place="Präventionsbüro",
                            agenda_cutoff_dt=starts - timedelta(days=7), state=state, ical_uid=str(new_id()),
                            held_dt=starts if state is ReviewSessionState.held else None,
                            cancelled_dt=starts if state is ReviewSessionState.cancelled else None)
    db.session.add(session)
    db.session.flush()
    for n, case in enumerate(cases):
        db.session.add(AgendaItem(id=new_id(), tenant_id=town.tenant.id, session_id=session.id, case_id=case.id,
                                  position=n + 1, added_dt=starts - timedelta(days=8)))


def _referral(town, case, offer_type, state, created):
    started = created + timedelta(days=20) if state in ("started", "completed", "dropped") else None
    ended = {"completed": created + timedelta(days=300), "dropped": created + timedelta(days=40),
             "declined": created + timedelta(days=5), "cancelled": created + timedelta(days=5)}.get(state)
    requested = created + timedelta(days=10) if state not in ("proposed", "offered", "accepted", "declined",
                                                              "cancelled") else None
    db.session.add(Referral(id=new_id(), tenant_id=town.tenant.id, created_dt=created, case_id=case.id,
                            offer_type=OfferType(offer_type), state=ReferralState(state),
                            provider_name="Träger" if requested else None, requested_dt=requested,
                            started_dt=started, ended_dt=ended))


@pytest.fixture
def supported(app, town):
    """Town (24 cases in Feb 2026) with two held sessions, a cancelled one, referrals and contacts."""
    with arrange(app):
        c = town.cases
        _session(town, at(2026, 3, 11), c[:6])
        _session(town, at(2026, 4, 8), c[6:9])
        _session(town, at(2026, 5, 13), c[9:16], state=ReviewSessionState.cancelled)
        for case in c[:5]:
            _referral(town, case, "sprachfoerderung", "completed", at(2026, 3, 15))
        _referral(town, c[5], "sprachfoerderung", "declined", at(2026, 3, 15))
        for case in c[6:12]:  # all of Nord
            _referral(town, case, "kita_platz", "waitlisted", at(2026, 4, 2))
        for case in c[:6]:
            db.session.add(Contact(id=new_id(), tenant_id=town.tenant.id, created_dt=case.created_dt, case_id=case.id,
                                   author_id=town.lotse.id, contact_date=(case.created_dt + timedelta(days=12)).date(),
                                   setting=ContactSetting.home))
            db.session.execute(sa.update(Case).where(Case.id == case.id).values(  # as log_contact sets it
                first_contact_on=(case.created_dt + timedelta(days=12)).date()))
        _, token = create_token(town.statistics, name="t", scopes={Role.statistics}, now=utcnow())
    return {"Authorization": f"Bearer {token}"}


def _table(client, headers, key, query=H1):
    response = client.get(f"/api/v1/reports/tables/{key}?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _cell(table, row_label, col_key):
    row = next(r for r in table["rows"] if r["label"] == row_label)
    return row["values"][[c["key"] for c in table["columns"]].index(col_key)]


def test_cases_per_session_count_held_sessions_only(client, supported):
    table = _table(client, supported, "cases_per_session")
    # 3 cases are below k; the 6 must go too, or 9 − 6 would give the 3 away
    assert [(r["label"], r["values"][0]) for r in table["rows"]] == [("11.03.2026", None), ("08.04.2026", None)]
    assert table["grand_total"] == 9


def test_referrals_by_offer_type_and_outcome(client, supported):
    table = _table(client, supported, "referrals")
    assert _cell(table, "Sprachförderung", "completed") == 5
    assert _cell(table, "Sprachförderung", "declined") is None  # one family: withheld
    assert table["grand_total"] == 12


def test_sustainability_shows_exclusive_stages_that_add_up_to_the_referrals(client, supported):
    table = _table(client, supported, "sustainability")
    assert _cell(table, "Sprachförderung", "sustained") == 5
    waiting = next(r for r in table["rows"] if r["label"].startswith("Kita"))
    assert waiting["total"] == 6 and _cell(table, waiting["label"], "not_started") == 6


def test_waiting_lists_by_offer_type_and_sozialraum(client, supported):
    table = _table(client, supported, "waitlists")
    kita = next(r for r in table["rows"] if r["label"].startswith("Kita"))
    assert kita["values"][[c["key"] for c in table["columns"]].index("Nord")] == 6


def test_days_from_intake_to_the_first_contact(client, supported):
    table = _table(client, supported, "time_to_first_contact")
    assert table["overall"]["n"] == 6 and table["overall"]["median_days"] == 12.0


def test_filters_reach_the_facts_of_sessions_and_referrals_through_their_case(client, supported):
    assert _table(client, supported, "referrals", f"{H1}&sozialraum=Süd")["grand_total"] == 0
    assert _table(client, supported, "cases_per_session", f"{H1}&sozialraum=Nord")["grand_total"] == 9


def _offer(town, **fields):
    from praevcase.offers.operations import create_offer

    base = {"name": "Angebot", "description": None, "provider_type": None, "fields_of_action": [], "sozialraeume": [],
            "municipality": None, "access": None, "languages": None, "contact": None, "capacity": None,
            "waiting_list": False, "standards": [], "source": None, "is_active": True, "age_phases": [],
            "provider_agency_id": None, "provider_name": "Träger", "offer_type": OfferType.kita_platz}
    return create_offer(town.tenant, {**base, **fields}, actor=town.coordinator, now=utcnow())


def test_needs_without_a_fitting_active_offer_are_the_gaps(app, client, town, supported):
    kita = "Rund um die Kita"
    table = _table(client, supported, "unmet_needs")  # no offers yet: every need of the 24 cases is a gap
    # Kleinraum (3) is below k, and Süd is withheld with it so the row total cannot give it away
    assert (_cell(table, kita, "Nord"), _cell(table, kita, "Süd"), table["grand_total"]) == (12, None, 24)
    with arrange(app):
        _offer(town, sozialraeume=["Nord"], age_phases=["kita"])  # Kita places in Nord
        _offer(town, sozialraeume=["Süd"], age_phases=["grundschule"])  # the wrong age phase for Süd
        _offer(town, sozialraeume=["Süd"], age_phases=["kita"], is_active=False)  # no longer offered
        _offer(town, offer_type=OfferType.freizeit)  # everywhere, but does not answer the need
    assert _table(client, supported, "unmet_needs")["grand_total"] == 12  # Süd 9 + Kleinraum 3
    assert _table(client, supported, "unmet_needs", f"{H1}&sozialraum=Nord")["grand_total"] == 0
    assert _cell(_table(client, supported, "unmet_needs", f"{H1}&sozialraum=Süd"), kita, "Süd") == 9
    with arrange(app):
        _offer(town, name="Tagespflege im ganzen Kreis")  # no Sozialraum, no age phase: open to all
    assert _table(client, supported, "unmet_needs")["grand_total"] == 0
