"""Subject-access report (Art. 15 DSGVO): complete for the family, dpo only, staff names left out, audited."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent.scopes import DataCategory
from consent.scopes import LegalBasis
from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.accounts.tokens import create_token
from praevcase.audit.models import AuditEvent
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.privacy import operations as ops
from praevcase.privacy.erasure import erase_family
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import Family
from praevcase.privacy.vault import reveal
from tests.conftest import arrange
from tests.conftest import login_as
from tests.factories import UserFactory
from tests.pdftext import pdf_text
from tests.praevcase.privacy.conftest import CANARY_DIAGNOSIS
from tests.praevcase.privacy.conftest import CANARY_NAME


@pytest.fixture
def shared(app, web_world, now):
    """The family consented to the Gesundheitsamt, which then read the child's name."""
    w = web_world
    with arrange(app):
        family = db.session.merge(w.family)
        ops.record_consent(family, template=db.session.merge(w.template), purposes={Purpose.team_review},
                           categories={DataCategory.identity}, recipient_agency_ids={w.gesundheitsamt.id},
                           signatories=[{"person_id": w.mother.id}], channel=ConsentChannel.written,
                           actor=db.session.merge(w.intake), now=now, child_view=CANARY_DIAGNOSIS)
        reveal(family, db.session.merge(w.child), ["given_name", "family_name"], actor=db.session.merge(w.health),
               purpose=Purpose.team_review, now=now)
    return w


def _dpo_client(app, w):
    client = app.test_client()
    login_as(client, app, w.dpo)
    return client


def test_the_report_holds_the_data_consents_recipients_and_accesses(app, shared, scorecard):
    w = shared
    response = _dpo_client(app, w).get(f"/datenschutz/familien/{w.family.id}/auskunft")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for item in (CANARY_NAME, "Emre", "Ayşe", "Rurstraße 1, 52349 Düren", "0170 1234567", "Türkisch", "14.03.2021",
                 CANARY_DIAGNOSIS, w.template.title, w.template.text_sha256, "Volltext",
                 "In einfacher Sprache", "Gesundheitsamt", "Jobcenter", w.family.case_number):
        assert item in html or item.replace("14.03.2021", "2021-03-14") in html, item
    # staff are not named, agencies are (the page header names only the signed-in dpo)
    report = html.split('<main id="inhalt"', 1)[1].split("</main>", 1)[0]
    for name in (w.intake.display_name, w.health.display_name, w.dpo.display_name):
        assert name not in report
    with arrange(app):
        export = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.subject_access"))
        assert (export.details["format"], export.details["persons"], export.legal_basis) == \
            ("html", 2, LegalBasis.subject_access.value)
        reveals = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "data.reveal", AuditEvent.actor_user_id == w.dpo.id)).all()
        assert len(reveals) == 3  # two persons and the child's view, each under the subject-access basis
        assert {(e.outcome, e.legal_basis, e.purpose) for e in reveals} == {("granted", "subject_access", None)}
    scorecard("SC-19", "items_in_report", "100%,consents_with_text=1,recipients=1,staff_names=0")


def test_json_and_pdf_carry_the_same_report(app, shared):
    w = shared
    client = _dpo_client(app, w)
    data = client.get(f"/datenschutz/familien/{w.family.id}/auskunft.json").json
    assert data["family"]["case_number"] == w.family.case_number
    assert {p["data"]["Familienname"] for p in data["persons"]} == {CANARY_NAME}
    assert data["consents"][0]["template"]["sha256"] == w.template.text_sha256
    assert data["consents"][0]["child_view"] == CANARY_DIAGNOSIS
    assert [r["agency"] for r in data["recipients"]] == ["Gesundheitsamt"]
    assert data["recipients"][0]["categories"] == ["Name, Geburtsdatum"]
    assert all(set(e) == {"at", "action", "agency", "roles", "purpose", "legal_basis", "categories", "outcome"}
               for e in data["access_log"])
    pdf = client.get(f"/datenschutz/familien/{w.family.id}/auskunft.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert w.family.case_number in pdf.headers["Content-Disposition"]
    printed = pdf_text(pdf.data)
    assert "Ayşe" in printed and CANARY_NAME in printed  # the names as written, not "Ayse" or "Ay?e"
    with arrange(app):
        formats = db.session.scalars(sa.select(AuditEvent.details).where(
            AuditEvent.action == "privacy.subject_access")).all()
        assert sorted(d["format"] for d in formats) == ["json", "pdf"]


def test_the_api_gives_the_report_to_the_dpo_only(app, client, shared):
    w = shared
    with arrange(app):
        admin = UserFactory(agency=w.jobcenter, roles=[Role.admin])
        tokens = {who: create_token(user, name="t", scopes=set(user.roles), now=utcnow())[1]
                  for who, user in (("dpo", db.session.merge(w.dpo)), ("admin", admin),
                                    ("intake", db.session.merge(w.intake)))}
    path = f"/api/v1/families/{w.family.id}/subject-access"
    ok = client.get(path, headers={"Authorization": f"Bearer {tokens['dpo']}"})
    assert ok.status_code == 200 and ok.json["persons"][0]["data"]["Familienname"] == CANARY_NAME
    for who in ("admin", "intake"):
        refused = client.get(path, headers={"Authorization": f"Bearer {tokens[who]}"})
        assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
        assert CANARY_NAME not in refused.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.admin, Role.team_member, Role.intake, Role.statistics])
def test_no_other_role_gets_the_report(app, shared, role):
    with arrange(app):
        user = UserFactory(agency=shared.jobcenter, roles=[role])
    client = app.test_client()
    login_as(client, app, user)
    for suffix in ("", ".json", ".pdf"):
        response = client.get(f"/datenschutz/familien/{shared.family.id}/auskunft{suffix}")
        assert response.status_code == 403
        assert CANARY_NAME not in response.get_data(as_text=True)


def test_the_report_of_an_erased_family_holds_no_personal_data(app, shared, now):
    with arrange(app):
        erase_family(db.session.get(Family, shared.family.id), cause="request", requested_by=None, approved_by=None,
                     actor=None, now=now)
    data = _dpo_client(app, shared).get(f"/datenschutz/familien/{shared.family.id}/auskunft.json").json
    assert data["persons"] == [] and data["family"]["erased_at"] and data["family"]["erasure_cause"] == "request"
    assert data["consents"][0]["child_view"] is None
    assert CANARY_NAME not in str(data) and CANARY_DIAGNOSIS not in str(data)
