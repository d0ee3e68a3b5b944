"""The transition pages: a Kita writes and hands over, the school receives; nobody else sees anything."""
from __future__ import annotations

import re
from datetime import date
from datetime import timedelta

import pytest
import sqlalchemy as sa

from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.tenancy import set_scope
from praevcase.transitions import operations as ops
from praevcase.transitions.models import ProtocolKind
from praevcase.transitions.models import U1Protocol
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.transitions.conftest import CANARY_FAMILY
from tests.praevcase.transitions.conftest import CANARY_NOTE
from tests.praevcase.transitions.conftest import build_world
from tests.praevcase.transitions.conftest import consent_for
from tests.praevcase.transitions.conftest import new_protocol
from tests.praevcase.transitions.conftest import save


@pytest.fixture
def http_world(app):
    with arrange(app):
        return build_world()


def _handed_over(app, w):
    now = utcnow()
    with arrange(app):
        set_scope(db.session, w.tenant.id)
        p = new_protocol(w, ProtocolKind.u1, now, receiver=w.gs)
        version = save(p, w.kita_staff, now)
        ops.record_parent_talk(p, now.date(), actor=w.kita_staff, now=now)
        ops.fire(p, "finalize", actor=w.kita_staff, now=now)
        consent_for(p, w.gs, w.kita_staff, now)
        ops.fire(p, "hand_over", actor=w.kita_staff, now=now)
    return p, version


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_kita_writes_a_protocol_and_hands_it_over_through_the_pages(app, client, http_world):
    w = http_world
    login_as(client, app, w.kita_staff)
    assert "Übergänge" in _text(client.get("/uebergaenge/"))
    token = get_csrf(client, "/uebergaenge/ue1/neu")
    response = client.post("/uebergaenge/ue1/neu", data={
        "csrf_token": token, "given_name": "Mila", "family_name": CANARY_FAMILY, "birth_date": "2021-05-02",
        "guardian_given_name": "Sara", "guardian_family_name": CANARY_FAMILY,
        "receiver_agency_id": str(w.gs.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/bearbeiten")
    edit_url = response.headers["Location"]
    protocol_url = edit_url.rsplit("/", 1)[0]
    page = _text(client.get(edit_url))
    assert "Bewegung" in page and "Ökologische Bildung" in page and "Medien" in page
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    response = client.post(edit_url, data={"csrf_token": token, "expected_version": version,
                                           "level_bewegung": "in_entwicklung", "note_bewegung": CANARY_NOTE,
                                           "support": "Sprachförderung", "interests": "Musik"})
    assert response.status_code == 302
    page = _text(client.get(protocol_url))
    assert "Mila" in page and CANARY_NOTE in page and "Fassung 1" in page
    assert "Einwilligung der Eltern erforderlich" in page
    # a stale form is refused
    stale = client.post(edit_url, data={"csrf_token": token, "expected_version": version, "support": "x"})
    assert stale.status_code == 409
    assert client.post(f"{protocol_url}/elterngespraech", data={
        "csrf_token": token, "parent_talk_on": date.today().isoformat()}).status_code == 302
    version = re.search(r'name="expected_version" value="(\d+)"', _text(client.get(protocol_url))).group(1)
    assert client.post(f"{protocol_url}/aktion/finalize", data={"csrf_token": token,
                                                                 "expected_version": version}).status_code == 302
    # handing over without consent: refused, nothing changes
    assert client.post(f"{protocol_url}/aktion/hand_over", data={"csrf_token": token}).status_code == 409
    consent_page = _text(client.get(f"{protocol_url}/einwilligung"))
    assert "Einwilligung in die Weitergabe des Übergangsprotokolls Ü1" in consent_page and "Sara" in consent_page
    with app.app_context():
        set_scope(db.session, w.tenant.id)
        guardian = db.session.scalar(sa.select(Person.id).where(Person.role == PersonRole.guardian)
                                     .join(U1Protocol, U1Protocol.family_id == Person.family_id))
    assert client.post(f"{protocol_url}/einwilligung", data={
        "csrf_token": token, "recipient_agency_id": str(w.gs.id), "signatories": str(guardian),
        "channel": "written"}).status_code == 302
    assert "liegt vor und nennt die Schule" in _text(client.get(protocol_url))
    assert client.post(f"{protocol_url}/aktion/hand_over", data={"csrf_token": token}).status_code == 302
    assert "An die Grundschule übergeben" in _text(client.get(protocol_url))

    school = app.test_client()
    login_as(school, app, w.gs_staff)
    overview = _text(school.get("/uebergaenge/"))
    assert "eingegangen" in overview
    page = _text(school.get(protocol_url))
    assert "Mila" in page and CANARY_NOTE in page and "Empfang bestätigen" in page
    token = get_csrf(school, protocol_url)
    assert school.post(f"{protocol_url}/aktion/confirm_receipt", data={"csrf_token": token}).status_code == 302
    assert "Von der Grundschule empfangen" in _text(school.get(protocol_url))


def test_the_named_school_sees_nothing_before_the_handover(app, client, http_world):
    w = http_world
    with arrange(app):
        set_scope(db.session, w.tenant.id)
        p = new_protocol(w, ProtocolKind.u1, utcnow(), receiver=w.gs)
    login_as(client, app, w.gs_staff)
    assert client.get(f"/uebergaenge/ue1/{p.id}").status_code == 404
    assert "Mila" not in _text(client.get("/uebergaenge/")) and str(p.id) not in _text(client.get("/uebergaenge/"))


def _id_routes(app, p, version):
    values = {"segment": "ue1", "protocol_id": p.id, "version_id": version.id, "trigger": "confirm_receipt"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("transitions.") and "protocol_id" in rule.arguments:
            url = rule.rule
            for arg in rule.arguments:
                url = re.sub(rf"<(?:\w+:)?{arg}>", str(values[arg]), url)
            yield rule, url


@pytest.mark.parametrize("who", ["kita2_staff", "ws1_staff", "other_kita_staff"])
def test_staff_of_another_institution_or_tenant_gets_404_on_every_protocol_route(app, client, http_world, who):
    w = http_world
    p, version = _handed_over(app, w)
    login_as(client, app, getattr(w, who))
    token = get_csrf(client, "/uebergaenge/")
    checked = 0
    for rule, url in _id_routes(app, p, version):
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 404, url
            assert CANARY_FAMILY not in _text(response) and CANARY_NOTE not in _text(response)
        if "POST" in rule.methods:
            assert client.post(url, data={"csrf_token": token}).status_code == 404, url
        checked += 1
    assert checked == 7
    assert str(p.id) not in _text(client.get("/uebergaenge/"))


def test_roles_without_the_permission_are_refused(app, client, http_world):
    w = http_world
    p, _ = _handed_over(app, w)
    login_as(client, app, w.coordinator)
    assert client.get("/uebergaenge/").status_code == 403
    assert client.get(f"/uebergaenge/ue1/{p.id}").status_code == 403


def test_receiving_school_sees_only_the_version_handed_over(app, client, http_world):
    w = http_world
    p, version = _handed_over(app, w)
    login_as(client, app, w.gs_staff)
    assert client.get(f"/uebergaenge/ue1/{p.id}/fassungen/{version.id}").status_code == 200
    page = _text(client.get(f"/uebergaenge/ue1/{p.id}"))
    assert "Frühere Fassungen" not in page and "Inhalt bearbeiten" not in page
    token = get_csrf(client, f"/uebergaenge/ue1/{p.id}")
    assert client.post(f"/uebergaenge/ue1/{p.id}/aktion/defer", data={"csrf_token": token}).status_code == 403


def test_admin_edits_the_template_as_a_new_version(app, client, http_world):
    w = http_world
    login_as(client, app, w.admin)
    page = _text(client.get("/uebergaenge/vorlagen"))
    assert "Naturwissenschaftlich-technische Bildung" in page and "Version 1" in page
    token = get_csrf(client, "/uebergaenge/vorlagen")
    response = client.post("/uebergaenge/vorlagen/ue1", data={
        "csrf_token": token, "areas": "Bewegung\nSprache und Kommunikation\nMedien", "scale": "gut\nmittel\nwenig"})
    assert response.status_code == 302
    assert "Version 2" in _text(client.get("/uebergaenge/vorlagen"))
    login_as(client, app, w.kita_staff)
    assert client.get("/uebergaenge/vorlagen").status_code == 403


def test_protocol_pages_of_the_demo_size_answer(app, client, http_world):
    """Overview filter by school year and the deferral form work from the page."""
    w = http_world
    now = utcnow()
    with arrange(app):
        set_scope(db.session, w.tenant.id)
        p = new_protocol(w, ProtocolKind.u1, now, receiver=w.gs, school_year=now.year + 1)
    login_as(client, app, w.kita_staff)
    assert str(p.id) in _text(client.get(f"/uebergaenge/?jahr={now.year + 1}"))
    assert str(p.id) not in _text(client.get(f"/uebergaenge/?jahr={now.year + 5}"))
    token = get_csrf(client, f"/uebergaenge/ue1/{p.id}")
    assert client.post(f"/uebergaenge/ue1/{p.id}/aktion/defer", data={
        "csrf_token": token, "reason": "Zurückstellung"}).status_code == 302
    assert "Zurückgestellt" in _text(client.get(f"/uebergaenge/ue1/{p.id}"))
    assert f"{now.year + 2}/" in _text(client.get(f"/uebergaenge/ue1/{p.id}"))
    _ = timedelta
