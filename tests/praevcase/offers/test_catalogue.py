"""The offers catalogue: admin-editable, searchable by phase, field and Sozialraum; the demo ships §6 of the brief."""
from __future__ import annotations

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.extensions import db
from praevcase.offers.demo import GENERIC
from praevcase.offers.demo import NAMED
from praevcase.offers.demo import load_demo_offers
from praevcase.offers.models import Offer
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import UserFactory

FORM = {"name": "Sprachcafé für Eltern", "offer_type": "sprach_kulturmittlung", "provider_name": "Verein Brücke",
        "age_phases": ["kita", "grundschule"], "fields_of_action": ["soziales"], "sozialraeume": ["Nord"],
        "capacity": "12", "waiting_list": "1", "standards": ["soziale_inklusion"], "is_active": "1",
        "contact": "Frau Muster, Tel. 0000"}


def test_the_admin_adds_and_edits_an_offer_on_the_pages(app, client, team):
    with arrange(app):
        admin = UserFactory(agency=db.session.merge(team.buero), roles=[Role.admin])
    login_as(client, app, admin)
    token = get_csrf(client, "/angebote/neu")
    response = client.post("/angebote/neu", data={"csrf_token": token, **FORM})
    assert response.status_code == 302
    with arrange(app):
        offer = db.session.scalar(sa.select(Offer).where(Offer.name == FORM["name"]))
        assert offer.age_phases == ["grundschule", "kita"] and offer.capacity == 12 and offer.waiting_list
    html = client.get(f"/angebote/{offer.id}").get_data(as_text=True)
    assert "Verein Brücke" in html and "Soziale Inklusion" in html
    edited = client.post(f"/angebote/{offer.id}/bearbeiten", data={"csrf_token": token, **FORM, "capacity": "20",
                                                                    "is_active": ""})
    assert edited.status_code == 302
    with arrange(app):
        offer = db.session.get(Offer, offer.id)
        assert offer.capacity == 20 and not offer.is_active


def test_an_offer_needs_a_provider_and_a_known_sozialraum(app, client, team):
    with arrange(app):
        admin = UserFactory(agency=db.session.merge(team.buero), roles=[Role.admin])
    login_as(client, app, admin)
    token = get_csrf(client, "/angebote/neu")
    missing = client.post("/angebote/neu", data={"csrf_token": token, **FORM, "provider_name": ""})
    assert missing.status_code == 422 and "Anbieter" in missing.get_data(as_text=True)
    unknown = client.post("/angebote/neu", data={"csrf_token": token, **FORM, "sozialraeume": ["Atlantis"]})
    assert unknown.status_code == 422


def test_only_the_admin_edits_the_team_reads(app, client, team):
    login_as(client, app, team.health)
    assert client.get("/angebote/").status_code == 200
    assert client.get("/angebote/neu").status_code == 403
    headers = team.token(team.coordinator)
    assert client.post("/api/v1/offers/", json={**FORM, "capacity": 1, "waiting_list": True, "is_active": True},
                       headers=headers).status_code == 403
    assert client.get("/api/v1/offers/?age_phase=kita", headers=headers).status_code == 200


def test_the_api_filters_by_phase_field_type_and_sozialraum(app, client, team):
    with arrange(app):
        admin = UserFactory(agency=db.session.merge(team.buero), roles=[Role.admin])
    headers = team.token(admin)
    body = {**FORM, "capacity": 12, "waiting_list": True, "is_active": True}
    created = client.post("/api/v1/offers/", json=body, headers=headers)
    assert created.status_code == 201, created.json
    names = lambda q: {o["name"] for o in client.get(f"/api/v1/offers/?{q}", headers=headers).json}  # noqa: E731
    assert FORM["name"] in names("age_phase=grundschule") and FORM["name"] not in names("age_phase=jugendphase")
    assert FORM["name"] in names("sozialraum=Nord") and FORM["name"] not in names("sozialraum=Süd")
    assert names("offer_type=sprachfoerderung") == {"Sprachförderung vor der Einschulung"}
    assert FORM["name"] in names("field_of_action=soziales") and FORM["name"] in names("q=sprachcaf")
    put = client.put(f"/api/v1/offers/{created.json['id']}", json={**body, "is_active": False}, headers=headers)
    assert put.status_code == 200 and FORM["name"] not in names("")
    assert FORM["name"] in names("include_inactive=true")


def test_the_demo_catalogue_holds_the_named_offers_and_the_generic_types_once(app_ctx, team_ctx):
    added = load_demo_offers(team_ctx.tenant)
    assert added == len(NAMED) + len(GENERIC) and len(NAMED) == 21
    assert load_demo_offers(team_ctx.tenant) == 0
    keys = set(db.session.scalars(sa.select(Offer.key).where(Offer.key.is_not(None))))
    assert {"famos-kreis-unna", "jugendrat-gladbeck", "typ-sprachfoerderung", "typ-kita-platz"} <= keys
    famos = db.session.scalar(sa.select(Offer).where(Offer.key == "famos-kreis-unna"))
    assert famos.age_phases == ["schwangerschaft_geburt"] and famos.municipality == "Kommunen im Kreis Unna"
    assert "aufsuchender_ansatz" in famos.standards
