"""Pages and API of the data-protection core: metadata only for dpo/admin, one-step withdrawal for staff."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.accounts.tokens import create_token
from praevcase.audit.models import AuditEvent
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.privacy import operations as ops
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Family
from praevcase.privacy.vault import ConsentRequired
from praevcase.privacy.vault import reveal
from tests.conftest import arrange
from tests.conftest import csrf_from
from tests.conftest import login_as
from tests.factories import UserFactory
from tests.praevcase.privacy.conftest import CANARY_DIAGNOSIS
from tests.praevcase.privacy.conftest import CANARY_NAME

#: Personal values of the world: none may show on an admin/dpo page (the Art. 15 report aside)
SECRETS = [CANARY_NAME, CANARY_DIAGNOSIS, "Emre", "Ayşe", "Rurstraße", "0170 1234567", "Türkisch"]


@pytest.fixture
def consented(app, web_world, now):
    """A consent naming the Gesundheitsamt (with the child's view sealed in it), read once by it."""
    w = web_world
    with arrange(app):
        rec = ops.record_consent(db.session.merge(w.family), template=db.session.merge(w.template),
                                 purposes={Purpose.team_review, Purpose.lotse_support},
                                 categories={DataCategory.identity, DataCategory.contact},
                                 recipient_agency_ids={w.gesundheitsamt.id}, signatories=[{"person_id": w.mother.id}],
                                 channel=ConsentChannel.written, actor=db.session.merge(w.intake), now=now,
                                 child_view=CANARY_DIAGNOSIS)
        reveal(db.session.merge(w.family), db.session.merge(w.child), ["family_name"], actor=db.session.merge(w.health),
               purpose=Purpose.team_review, now=now)
    w.consent = rec
    return w


def _client(app, user):
    client = app.test_client()
    login_as(client, app, user)
    return client


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_dpo_and_admin_pages_never_show_personal_data(app, consented):
    w = consented
    with arrange(app):
        admin = UserFactory(agency=w.jobcenter, roles=[Role.admin])
    case = w.family.case_number
    pages = ["/", "/datenschutz/einwilligungen", f"/datenschutz/einwilligungen?case_number={case}&purpose=team_review"
             f"&state=active&agency_id={w.gesundheitsamt.id}", f"/datenschutz/familien/{w.family.id}",
             "/datenschutz/loeschungen", f"/datenschutz/familien/{w.family.id}/loeschung", "/protokoll/",
             f"/protokoll/?case_number={case}&action=data.reveal&outcome=granted", "/protokoll/kette",
             f"/einwilligungen/familie/{w.family.id}", "/datenschutz/familien"]
    for user in (w.dpo, admin):
        client = _client(app, user)
        for path in pages:
            html = _html(client.get(path))
            assert [s for s in SECRETS if s in html] == [], (user.roles, path)
        html = _html(client.get(f"/datenschutz/familien?case_number={case}", follow_redirects=True))
        assert case in html and not [s for s in SECRETS if s in html]
        html = _html(client.post("/protokoll/kette", data={"csrf_token": csrf_from(html)}))
        assert "Intakt." in html and not [s for s in SECRETS if s in html]


def test_the_consent_log_filters_and_its_reading_is_audited(app, consented):
    w = consented
    client = _client(app, w.dpo)
    html = _html(client.get(f"/datenschutz/einwilligungen?case_number={w.family.case_number.lower()}"))
    assert w.family.case_number in html and "Gesundheitsamt" in html and "Gültig" in html
    assert "Keine Einwilligungen." in _html(client.get("/datenschutz/einwilligungen?state=withdrawn"))
    assert "Keine Einwilligungen." in _html(client.get("/datenschutz/einwilligungen?purpose=referral"))
    assert "keine Familie" in _html(client.get("/datenschutz/einwilligungen?case_number=XX-0000-00000"))
    assert client.get("/datenschutz/einwilligungen?state=kaputt").status_code == 200  # shows the error, no filter
    with arrange(app):
        views = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "consent.log.view")).all()
        assert len(views) == 5 and views[0].family_ref == w.family.id and views[0].actor_user_id == w.dpo.id


def test_start_pages_of_dpo_and_admin_link_to_the_logs(app, web_world):
    with arrange(app):
        admin = UserFactory(agency=web_world.jobcenter, roles=[Role.admin])
    for user in (web_world.dpo, admin):
        html = _html(_client(app, user).get("/"))
        for link in ("/datenschutz/einwilligungen", "/protokoll/", "/protokoll/kette", "/datenschutz/loeschungen"):
            assert f'href="{link}"' in html


# --- staff: withdrawal in one step, a superseding consent -----------------------------------------


def test_withdrawal_through_the_page_takes_one_step_and_denies_the_recipient_at_once(app, consented, now):
    w = consented
    client = _client(app, w.intake)
    page = _html(client.get(f"/einwilligungen/familie/{w.family.id}"))
    assert page.count('action="/einwilligungen/familie/') == 1  # one form per active consent, no second page
    response = client.post(f"/einwilligungen/familie/{w.family.id}/{w.consent.id}/widerruf",
                           data={"csrf_token": csrf_from(page), "via": "phone", "expected_version": "1"})
    assert response.status_code == 302
    with arrange(app):
        rec = db.session.get(ConsentRecord, w.consent.id)
        assert (rec.state.value, rec.withdrawn_via, rec.withdrawn_recorded_by_id) == ("withdrawn", "phone", w.intake.id)
        later = max(utcnow(), now) + timedelta(seconds=1)
        family, child = db.session.get(Family, w.family.id), db.session.merge(w.child)
        with pytest.raises(ConsentRequired) as denied:
            reveal(family, child, ["family_name"], actor=db.session.merge(w.health), purpose=Purpose.team_review,
                   now=later)
        assert denied.value.decision.reason.value == "consent_withdrawn"
        logged = db.session.info["audit_pending"][-1]
        assert (logged["action"], logged["outcome"], logged["reason"]) == ("data.reveal", "denied", "consent_withdrawn")
        assert reveal(family, child, ["family_name"], actor=db.session.merge(w.intake), purpose=Purpose.team_review,
                      now=later)["family_name"] == CANARY_NAME
    assert "Widerrufen" in _html(client.get(f"/einwilligungen/familie/{w.family.id}"))


def test_withdrawal_needs_a_channel_and_a_current_page(app, consented):
    w = consented
    client = _client(app, w.intake)
    path = f"/einwilligungen/familie/{w.family.id}"
    token = csrf_from(_html(client.get(path)))
    missing = client.post(f"{path}/{w.consent.id}/widerruf", data={"csrf_token": token})
    assert missing.status_code == 422 and "Bitte den Weg des Widerrufs wählen." in missing.get_data(as_text=True)
    stale = client.post(f"{path}/{w.consent.id}/widerruf", data={"csrf_token": token, "via": "written",
                                                                  "expected_version": "0"})
    assert stale.status_code == 409
    with arrange(app):
        assert db.session.get(ConsentRecord, w.consent.id).state.value == "active"


def test_an_agency_that_is_not_involved_does_not_see_the_family(app, consented):
    w = consented
    client = _client(app, w.youth)
    assert client.get(f"/einwilligungen/familie/{w.family.id}").status_code == 404
    token = csrf_from(_html(client.get("/")))
    assert client.post(f"/einwilligungen/familie/{w.family.id}/{w.consent.id}/widerruf",
                       data={"csrf_token": token, "via": "phone"}).status_code == 404
    assert _client(app, w.health).get(f"/einwilligungen/familie/{w.family.id}").status_code == 200  # named


def test_a_new_consent_supersedes_the_old_one(app, consented):
    w = consented
    client = _client(app, w.intake)
    form = _html(client.get(f"/einwilligungen/familie/{w.family.id}/neu?ersetzt={w.consent.id}"))
    assert "ersetzt die Fassung" in form and CANARY_NAME not in form and "Sorgeberechtigte Person 1" in form
    data = {"csrf_token": csrf_from(form), "template_id": str(w.template.id), "purposes": ["team_review"],
            "categories": ["identity"], "recipient_agency_ids": [str(w.gesundheitsamt.id), str(w.jugendamt.id)],
            "signatory_ids": [str(w.mother.id)], "channel": "written", "supersedes_id": str(w.consent.id)}
    bad = client.post(f"/einwilligungen/familie/{w.family.id}/neu", data={**data, "purposes": ["evaluation"]})
    assert bad.status_code == 422 and "nicht im gezeigten Einwilligungstext" in bad.get_data(as_text=True)
    assert client.post(f"/einwilligungen/familie/{w.family.id}/neu", data=data).status_code == 302
    with arrange(app):
        records = db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.family_id == w.family.id)
                                     .order_by(ConsentRecord.valid_from)).all()
        assert [r.state.value for r in records] == ["superseded", "active"]
        assert records[0].superseded_by_id == records[1].id
        assert set(records[1].recipient_agency_ids) == {str(w.gesundheitsamt.id), str(w.jugendamt.id)}


# --- API ----------------------------------------------------------------------------------------


def _token(app, user):
    with arrange(app):
        user = db.session.merge(user)
        return {"Authorization": f"Bearer {create_token(user, name='t', scopes=set(user.roles), now=utcnow())[1]}"}


def test_api_lists_gets_and_withdraws_consents(app, client, consented):
    w = consented
    headers = _token(app, w.intake)
    base = f"/api/v1/families/{w.family.id}/consents"
    listed = client.get(base, headers=headers)
    assert listed.status_code == 200 and [c["id"] for c in listed.json] == [str(w.consent.id)]
    one = client.get(f"{base}/{w.consent.id}", headers=headers).json
    assert one["state"] == "active" and one["recipient_agency_ids"] == [str(w.gesundheitsamt.id)]
    assert "child_view" not in str(one) and CANARY_DIAGNOSIS not in str(listed.json)
    bad = client.post(f"{base}/{w.consent.id}/withdraw", json={"via": "pigeon"}, headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    done = client.post(f"{base}/{w.consent.id}/withdraw", json={"via": "electronic"}, headers=headers)
    assert done.status_code == 200 and done.json["state"] == "withdrawn" and done.json["withdrawn_via"] == "electronic"
    again = client.post(f"{base}/{w.consent.id}/withdraw", json={"via": "electronic"}, headers=headers)
    assert again.status_code == 409


def test_api_hides_families_from_agencies_that_are_not_involved(app, client, consented):
    w = consented
    headers = _token(app, w.youth)
    base = f"/api/v1/families/{w.family.id}/consents"
    assert client.get(base, headers=headers).status_code == 404
    assert client.post(f"{base}/{w.consent.id}/withdraw", json={"via": "phone"}, headers=headers).status_code == 404
    with arrange(app):
        stranger = UserFactory(roles=[Role.dpo])  # another tenant's dpo
    assert client.get(base, headers=_token(app, stranger)).status_code == 404
    report = client.get(f"/api/v1/families/{w.family.id}/subject-access", headers=_token(app, stranger))
    assert report.status_code == 404


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/families/{family_id}/consents", "/api/v1/families/{family_id}/consents/{consent_id}",
                 "/api/v1/families/{family_id}/consents/{consent_id}/withdraw",
                 "/api/v1/families/{family_id}/subject-access"):
        assert path in paths, path
