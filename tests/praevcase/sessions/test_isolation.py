"""Tenant isolation of sessions, offers, referrals and the Lotse workspace: another tenant's ids are 404 everywhere."""
from __future__ import annotations

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.cases import operations as case_ops
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.referrals import operations as referral_ops
from praevcase.sessions import agenda
from praevcase.sessions import operations as ops
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.sessions.models import TeamSeat
from praevcase.tenancy import set_scope
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import UserFactory
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.sessions.conftest import build_team
from tests.praevcase.sessions.conftest import new_session
from tests.praevcase.sessions.conftest import open_ready_case

MINE = ("sessions.", "offers.", "referrals.", "lotse.", "sessions_api.", "offers_api.", "referrals_api.",
        "lotse_api.")


def _other_tenant(app) -> dict:
    """Tenant B with a frozen session, an item, an attendee, a seat, an offer, a referral, a case in support."""
    with arrange(app):
        b = build_team(db.session)
        case = open_ready_case(b, canary=True)
        session = new_session(b)
        agenda.build_agenda(session, actor=b.coordinator, now=utcnow())
        ops.fire_session(session, "freeze_agenda", actor=b.coordinator, now=utcnow())
        item = session.items[0]
        attendee = db.session.scalars(sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id)).first()
        seat = db.session.scalars(sa.select(TeamSeat)).first()
        referral = agenda.propose_offer(session, item, {"offer_id": b.language_offer.id}, actor=b.coordinator,
                                        now=utcnow())
        case_ops.fire_case(case, "assign_lotse", actor=b.coordinator, now=utcnow(), lotse=b.health)
        referral_ops.fire_referral(referral, "offer", actor=b.health, now=utcnow())
        ids = {"session_id": session.id, "item_id": item.id, "attendee_id": attendee.id, "seat_id": seat.id,
               "offer_id": b.language_offer.id, "referral_id": referral.id, "case_id": case.id}
        versions = {"session": session.version, "referral": referral.version}
        set_scope(db.session, b.tenant.id)
    return {"ids": ids, "versions": versions}


def _urls(app, ids: dict, *, api: bool):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(MINE) or not rule.arguments or rule.rule.startswith("/api/") != api:
            continue
        if not set(rule.arguments) <= set(ids):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<uuid:{arg}>", str(ids[arg]))
        yield rule, url


def test_every_page_and_endpoint_with_another_tenants_id_answers_404_and_changes_nothing(app, client):
    b = _other_tenant(app)
    with arrange(app):
        a = build_team(db.session)
        boss = UserFactory(agency=a.buero, roles=[Role.coordinator, Role.admin, Role.team_member])
    login_as(client, app, boss)
    token = get_csrf(client, "/sitzungen/")
    from praevcase.accounts.tokens import create_token

    with arrange(app):
        _, bearer = create_token(db.session.merge(boss), name="t", scopes={Role.coordinator, Role.admin,
                                                                          Role.team_member}, now=utcnow())
    headers = {"Authorization": f"Bearer {bearer}"}
    form = {"csrf_token": token, "trigger": "hold", "version": "1", "presence": "present", "notes": "x",
            "decision": "defer", "offer_id": str(b["ids"]["offer_id"]), "agency_id": str(a.buero.id),
            "contact_date": "2026-01-01", "setting": "home", "summary": "abc", "name": "Übernommen",
            "offer_type": "sprachfoerderung", "age_phases": "kita", "provider_name": "X"}
    body = {"trigger": "hold", "version": 1, "presence": "present", "notes": "x", "decision": "defer"}
    checked = 0
    for api in (False, True):
        for rule, url in _urls(app, b["ids"], api=api):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if api:
                    response = client.open(url, method=method, headers=headers,
                                           json=body if method in ("POST", "PUT") else None)
                    assert response.mimetype == "application/problem+json", (method, url)
                else:
                    response = client.open(url, method=method, data=form if method == "POST" else None)
                assert response.status_code == 404, (method, url, response.status_code)
                assert CANARY_FAMILY not in response.get_data(as_text=True)
                checked += 1
    assert checked >= 30
    with arrange(app):
        from praevcase.referrals.models import Referral

        assert db.session.get(ReviewSession, b["ids"]["session_id"]).version == b["versions"]["session"]
        assert db.session.get(Referral, b["ids"]["referral_id"]).version == b["versions"]["referral"]
    lists = [client.get("/api/v1/sessions/", headers=headers).json, client.get("/api/v1/referrals/", headers=headers).json]
    assert all(str(b["ids"]["session_id"]) not in str(x) and str(b["ids"]["referral_id"]) not in str(x) for x in lists)
