"""Bad intake input: German field messages in the form (422), problem+json in the API, nothing written."""
from __future__ import annotations

from datetime import date
from datetime import timedelta

import pytest
import sqlalchemy as sa

from praevcase.audit.models import AuditEvent
from praevcase.cases.models import Case
from praevcase.cases.models import CaseIntake
from praevcase.extensions import db
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.statemachine import TransitionHistory
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.cases.conftest import ago
from tests.praevcase.cases.conftest import jobcenter_payload

TABLES = (Case, CaseIntake, Family, Person, ConsentRecord, TransitionHistory, AuditEvent)
FUTURE = (date.today() + timedelta(days=30)).isoformat()


def _counts(app) -> dict[str, int]:
    with arrange(app):
        return {t.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in TABLES}


def _form(kreis, **changes) -> dict:
    form = {"children-0-given_name": "Emre", "children-0-family_name": "Testfall", "children-0-birth_date": ago(2000),
            "guardians-0-given_name": "Ayşe", "guardians-0-family_name": "Testfall", "guardians-0-has_custody": "1",
            "needs": ["kita_platz"], "beyond_own_remit": "1", "team_summary": "Kind, 5 Jahre, ohne Kita-Platz.",
            "observed_on": ago(2), "child_has_daycare": "nein", "german_language": "keine",
            "consent-status": "given", "consent-template_id": str(kreis.template.id),
            "consent-purposes": ["team_review"], "consent-categories": ["identity"],
            "consent-recipient_agency_ids": [str(kreis.buero.id)], "consent-channel": "written"}
    for key, value in changes.items():
        if value is None:
            form.pop(key)
        else:
            form[key] = value
    return form


FORM_CASES = {
    "missing_consent_fields": ({"consent-template_id": None, "consent-purposes": None, "consent-channel": None,
                                "consent-recipient_agency_ids": None},
                               {"consent-template_id": "Bitte den Einwilligungstext wählen",
                                "consent-purposes": "Fallberatung im Präventionsteam",
                                "consent-recipient_agency_ids": "mindestens eine Stelle",
                                "consent-channel": "wie die Einwilligung erteilt wurde"}),
    "impossible_date": ({"children-0-birth_date": "2021-02-30"},
                        {"children-0-birth_date": "Bitte ein gültiges Datum angeben."}),
    "unknown_field": ({"lieblingsfarbe": "blau"}, {"lieblingsfarbe": "Unbekanntes Feld."}),
    "birth_date_in_future": ({"children-0-birth_date": FUTURE},
                             {"children-0-birth_date": "Das Geburtsdatum darf nicht in der Zukunft liegen."}),
    "observation_in_future": ({"observed_on": FUTURE},
                              {"observed_on": "Das Datum darf nicht in der Zukunft liegen."}),
    "name_in_team_summary": ({"team_summary": "Emre ist 5 Jahre alt und hat keinen Platz."},
                             {"team_summary": "Bitte ohne Namen schreiben"}),
    "no_custody_holder_signs": ({"guardians-0-has_custody": None},
                                {"guardians-0-has_custody": "mindestens eine sorgeberechtigte Person"}),
    "not_beyond_own_remit": ({"beyond_own_remit": None}, {"beyond_own_remit": "Bitte bestätigen."}),
    "unknown_template": ({"consent-template_id": "00000000-0000-7000-8000-000000000000"},
                         {"consent-template_id": "nicht verfügbar"}),
}


@pytest.mark.parametrize("case", FORM_CASES, ids=list(FORM_CASES))
def test_bad_intake_form_gets_german_field_messages_and_writes_nothing(app, client, kreis, case):
    changes, messages = FORM_CASES[case]
    login_as(client, app, kreis.intake)
    token = get_csrf(client, "/faelle/neu/jobcenter")
    before = _counts(app)
    response = client.post("/faelle/neu/jobcenter", data={"csrf_token": token, **_form(kreis, **changes)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte prüfen Sie Ihre Angaben" in html
    for field, message in messages.items():
        assert message in html, field
        assert f'href="#f-{field}"' in html  # the summary links to the field
    assert 'aria-invalid="true"' in html or case == "unknown_field"  # an unknown field has no input to mark
    assert "Testfall" in html  # what the user typed is kept …
    assert _counts(app) == before  # … and nothing half-written stays


API_CASES = {
    "missing_consent_fields": ({"consent": {"status": "given"}},
                               ("consent", "template_id"), "Bitte den Einwilligungstext wählen"),
    "impossible_date": ({"children": [{"given_name": "A", "family_name": "B", "birth_date": "2021-02-30"}]},
                        ("children", "0", "birth_date"), "Bitte ein gültiges Datum angeben."),
    "unknown_field": ({"lieblingsfarbe": "blau"}, ("lieblingsfarbe",), "Unbekanntes Feld."),
    "birth_date_in_future": ({"children": [{"given_name": "A", "family_name": "B", "birth_date": FUTURE}]},
                             ("children", "0", "birth_date"), "Das Geburtsdatum darf nicht in der Zukunft liegen."),
    "unknown_recipient": ({"consent": {"status": "given", "template_id": "00000000-0000-7000-8000-000000000000",
                                       "purposes": ["team_review"], "categories": ["identity"],
                                       "recipient_agency_ids": ["00000000-0000-7000-8000-000000000000"],
                                       "channel": "written"}},
                          ("consent", "template_id"), "nicht verfügbar"),
}


@pytest.mark.parametrize("case", API_CASES, ids=list(API_CASES))
def test_bad_intake_json_gets_422_problem_json_and_writes_nothing(app, client, kreis, case):
    changes, path, message = API_CASES[case]
    headers = kreis.token(kreis.intake)
    before = _counts(app)
    response = client.post("/api/v1/cases/intake/jobcenter", json=jobcenter_payload(kreis, **changes),
                           headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json" and response.json["code"] == "invalid_input"
    errors = response.json["errors"]
    for key in path:
        errors = errors[key]
    assert any(message in m for m in errors)
    assert _counts(app) == before
