"""Report pages, exports and API: what they show, to whom, and that filters and tenants hold."""
from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.tokens import create_token
from praevcase.audit.models import AuditEvent
from praevcase.cases.catalogue import AgePhase
from praevcase.cases.catalogue import IntakeChannel
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.reports.models import ReachDenominator
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.reports.conftest import add_case
from tests.praevcase.reports.conftest import at
from tests.praevcase.reports.conftest import make_town
from workflows.case import CaseState

PAGES = ["/berichte/fallfluss", "/berichte/sozialraum", "/berichte/luecken", "/berichte/nachhaltigkeit",
         "/berichte/uebergaenge", "/berichte/sachbericht", "/berichte/erreichung"]
H1 = "period=2026-H1"


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize("path", PAGES)
def test_coordinator_and_statistics_open_every_report_page(app, client, town, path):
    for user in (town.coordinator, town.statistics):
        login_as(client, app, user)
        response = client.get(f"{path}?{H1}")
        assert response.status_code == 200, (user.display_name, path)
        assert "Werte unter k=5 sind unterdrückt" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.intake, Role.team_member, Role.dpo, Role.admin, Role.school_staff])
def test_other_roles_may_not_read_reports(app, client, role):
    from tests.factories import UserFactory

    with arrange(app):
        user = UserFactory(roles=[role])
    login_as(client, app, user)
    assert client.get("/berichte/fallfluss").status_code == 403
    assert client.get("/berichte/fallfluss.csv").status_code == 403


def test_the_statistics_role_is_content_blind(app, client, town):
    login_as(client, app, town.statistics)
    assert client.get("/faelle/").status_code in (403, 404)
    assert client.get(f"/faelle/{town.cases[0].id}").status_code in (403, 404)
    html = client.get("/").get_data(as_text=True)
    assert "/berichte/" in html


def test_intakes_are_counted_by_channel_and_month(app, client, town):
    login_as(client, app, town.coordinator)
    rows = _csv_rows(client.get(f"/berichte/fallfluss.csv?{H1}").data)
    start = rows.index(["Aufnahmen nach Zugang und Monat"])
    header = next(r for r in rows[start:] if r[0] == "Zugang")
    assert header[:3] == ["Zugang", "Jan. 2026", "Feb. 2026"] and header[-1] == "Summe"
    jobcenter = next(r for r in rows[start:] if r[0] == "Beobachtung im Jobcenter")
    assert jobcenter[1:3] == ["0", "24"] and jobcenter[-1] == "24"


def _intakes(client, headers, query: str) -> dict:
    response = client.get(f"/api/v1/reports/tables/intakes?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def token(app, town):
    with arrange(app):
        _, value = create_token(town.coordinator, name="t", scopes={Role.coordinator}, now=utcnow())
    return {"Authorization": f"Bearer {value}"}


def test_another_tenants_cases_are_never_counted(app, client, town, token):
    with arrange(app):
        other = make_town(prefix="XX")
        for n in range(30):
            add_case(other, sozialraum="Nord", created=at(2026, 2, 1 + n % 20))
    assert _intakes(client, token, H1)["grand_total"] == 24
    login_as(client, app, town.coordinator)
    rows = _csv_rows(client.get(f"/berichte/sozialraum.csv?{H1}").data)
    nord = next(r for r in rows if r and r[0] == "Nord")
    assert nord[-1] == "12"
    # and the other tenant's agencies are no filter value here
    assert client.get(f"/berichte/fallfluss?{H1}&agency={other.jobcenter.id}").status_code == 200
    assert "Diese Stelle gibt es nicht." in client.get(f"/berichte/fallfluss?{H1}&agency={other.jobcenter.id}") \
        .get_data(as_text=True)
    assert client.get(f"/api/v1/reports/fallfluss?{H1}&agency={other.jobcenter.id}", headers=token).status_code == 422


def test_filters_restrict_every_count(app, client, town, token):
    with arrange(app):
        for n in range(6):
            add_case(town, sozialraum="Süd", age_phase=AgePhase.grundschule, agency=town.clinic,
                     channel=IntakeChannel.familienbuero, created=at(2026, 4, 1 + n))
        for n in range(7):
            add_case(town, sozialraum="Nord", created=at(2025, 11, 1 + n))  # another period
        add_case(town, sozialraum="Nord", state=CaseState.draft, created=at(2026, 3, 1))  # drafts never count
    assert _intakes(client, token, H1)["grand_total"] == 30
    assert _intakes(client, token, "period=2025-H2")["grand_total"] == 7
    assert _intakes(client, token, "period=2026-Q2")["grand_total"] == 6
    assert _intakes(client, token, f"{H1}&sozialraum=Nord")["grand_total"] == 12
    assert _intakes(client, token, f"{H1}&sozialraum=Süd")["grand_total"] == 15
    assert _intakes(client, token, f"{H1}&age_phase=grundschule")["grand_total"] == 6
    assert _intakes(client, token, f"{H1}&agency={town.clinic.id}")["grand_total"] == 6
    both = _intakes(client, token, f"{H1}&agency={town.jobcenter.id}&sozialraum=Süd")
    assert both["grand_total"] == 9
    assert _intakes(client, token, f"{H1}&sozialraum=-")["grand_total"] == 0
    by_month = {c["key"]: t for c, t in zip(both["columns"], both["column_totals"], strict=True)}
    assert by_month["2026-02"] == 9 and by_month["2026-04"] == 0


@pytest.mark.parametrize("query", ["period=2026-01-01", "period=2026-H3", "sozialraum=Atlantis", "age_phase=greis",
                                   "agency=00000000-0000-7000-8000-000000000000"])
def test_invalid_filters_are_refused_with_a_german_message(app, client, town, token, query):
    response = client.get(f"/api/v1/reports/fallfluss?{query}", headers=token)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    login_as(client, app, town.coordinator)
    assert client.get(f"/berichte/fallfluss.csv?{query}").status_code == 422
    page = client.get(f"/berichte/fallfluss?{query}")
    assert page.status_code == 200 and "Bitte prüfen Sie Ihre Angaben" in page.get_data(as_text=True)


def test_durations_show_median_and_quartiles_in_days(app, client, town, token):
    with arrange(app):
        for n in range(6):
            add_case(town, sozialraum="Nord", state=CaseState.in_support, created=at(2026, 3, 1 + n),
                     days_per_step=5 + n)
    body = client.get(f"/api/v1/reports/tables/time_to_review?{H1}", headers=token).json
    march = next(g for g in body["groups"] if g["key"] == "2026-03")
    # the team decides (assign_lotse) four steps after the intake: 20, 24, …, 40 days
    assert march["n"] == 6 and march["median_days"] == 30.0
    assert march["p25_days"] == 25.0 and march["p75_days"] == 35.0
    assert next(g for g in body["groups"] if g["key"] == "2026-01")["n"] == 0
    login_as(client, app, town.coordinator)
    assert "30,0" in client.get(f"/berichte/fallfluss?{H1}").get_data(as_text=True)


def test_a_median_of_fewer_than_k_cases_is_withheld(app, client, town, token):
    with arrange(app):
        for n in range(4):
            add_case(town, sozialraum="Nord", state=CaseState.in_support, created=at(2026, 3, 1 + n))
    body = client.get(f"/api/v1/reports/tables/time_to_lotse?{H1}", headers=token).json
    assert body["overall"]["n"] is None and body["overall"]["median_days"] is None


def test_reach_rate_is_exact_with_the_denominator_the_admin_entered(app, client, town):
    login_as(client, app, town.admin)
    form = {"csrf_token": get_csrf(client, "/berichte/bezugsgroessen"), "programme": "jobcenter_observation",
            "kind": "births", "year": "2026", "half": "1", "value": "977", "source_note": "IT.NRW"}
    assert client.post("/berichte/bezugsgroessen", data=form).status_code == 302
    form.update(value="1000")  # the same period again replaces the number
    assert client.post("/berichte/bezugsgroessen", data=form).status_code == 302
    form.update(value="977")
    client.post("/berichte/bezugsgroessen", data=form)
    form.update(sozialraum="Kleinraum", value="40")
    client.post("/berichte/bezugsgroessen", data=form)
    with arrange(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReachDenominator)
                                 .where(ReachDenominator.tenant_id == town.tenant.id)) == 2
    login_as(client, app, town.statistics)
    html = client.get(f"/berichte/erreichung?{H1}").get_data(as_text=True)
    assert "24/977 = 2,5\u00a0%" in html
    assert "•/40" in html  # the 3 families of Kleinraum are withheld, so is their rate
    rows = _csv_rows(client.get(f"/berichte/erreichung.csv?{H1}").data)
    assert any("24/977 = 2,5\u00a0%" in r for r in rows)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("value", "0", "größer als 0"), ("sozialraum", "Atlantis", "gibt es in den Einstellungen"),
    ("programme", "zauberei", "Zugang aus der Liste"), ("year", "1850", ""), ("kind", "x", ""),
])
def test_invalid_denominators_are_refused_on_the_form(app, client, town, field, value, message):
    login_as(client, app, town.coordinator)
    form = {"csrf_token": get_csrf(client, "/berichte/bezugsgroessen"), "programme": "famos_midwife",
            "kind": "births", "year": "2026", "half": "0", "value": "977", field: value}
    response = client.post("/berichte/bezugsgroessen", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_denominators_are_kept_by_admin_and_coordinator_only_and_audited(app, client, town):
    login_as(client, app, town.statistics)
    assert client.get("/berichte/bezugsgroessen").status_code == 403
    login_as(client, app, town.coordinator)
    form = {"csrf_token": get_csrf(client, "/berichte/bezugsgroessen"), "programme": "famos_midwife",
            "kind": "first_time_parents", "year": "2025", "half": "0", "value": "512"}
    client.post("/berichte/bezugsgroessen", data=form)
    with arrange(app):
        row = db.session.scalar(sa.select(ReachDenominator).where(ReachDenominator.tenant_id == town.tenant.id))
    client.post(f"/berichte/bezugsgroessen/{row.id}/loeschen", data={"csrf_token": form["csrf_token"]})
    with arrange(app):
        assert db.session.get(ReachDenominator, row.id) is None
    with arrange(app):
        other = make_town(prefix="XX")
        foreign = ReachDenominator(tenant_id=other.tenant.id, programme="famos_midwife", kind="births", year=2025,
                                   half=0, sozialraum="", value=5, updated_by_id=other.admin.id,
                                   updated_dt=utcnow(), created_dt=utcnow())
        db.session.add(foreign)
    response = client.post(f"/berichte/bezugsgroessen/{foreign.id}/loeschen", data={"csrf_token": form["csrf_token"]})
    assert response.status_code == 404
    with arrange(app):
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.tenant_id == town.tenant.id)).all()
    assert actions.count("reports.denominator") == 2


def test_every_export_is_an_audit_event(app, client, town):
    login_as(client, app, town.statistics)
    client.get(f"/berichte/sozialraum.csv?{H1}&sozialraum=Nord")
    client.get(f"/berichte/sachbericht.pdf?{H1}&programme=famos_midwife")
    with arrange(app):
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reports.export",
                                                                AuditEvent.tenant_id == town.tenant.id)).all()
    assert sorted((e.object_id, e.details["format"]) for e in events) == [("sachbericht", "pdf"),
                                                                           ("sozialraum", "csv")]
    assert next(e for e in events if e.object_id == "sozialraum").details["sozialraum"] == "Nord"


def test_pdf_and_csv_downloads_are_labelled_for_german_excel(app, client, town):
    login_as(client, app, town.coordinator)
    csv_response = client.get(f"/berichte/fallfluss.csv?{H1}")
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="fallfluss-2026-H1.csv"' in csv_response.headers["Content-Disposition"]
    assert "Zugang;Jan. 2026;Feb. 2026;" in csv_response.data.decode("utf-8-sig")
    pdf = client.get(f"/berichte/fallfluss.pdf?{H1}")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_every_table_of_the_gap_page_is_computed(app, client, town, token):
    body = client.get(f"/api/v1/reports/luecken?{H1}", headers=token).json
    unmet = next(t for t in body["tables"] if t["key"] == "unmet_needs")
    assert unmet["kind"] != "unavailable" and all(t["kind"] != "unavailable" for t in body["tables"])


def test_the_report_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/reports/", "/api/v1/reports/{page}", "/api/v1/reports/tables/{key}",
                 "/api/v1/reports/sachbericht", "/api/v1/reports/reach"):
        assert path in paths, path
    page = next(p for p in paths["/api/v1/reports/{page}"]["parameters"] if p["name"] == "page")
    assert set(page["schema"]["enum"]) >= {"fallfluss", "luecken"}
    query = {p["name"] for p in paths["/api/v1/reports/{page}"]["get"]["parameters"]}
    assert query >= {"period", "sozialraum", "age_phase", "agency"}


def test_charts_are_accessible_and_have_a_table_next_to_them(app, client, town):
    login_as(client, app, town.coordinator)
    html = client.get(f"/berichte/fallfluss?{H1}").get_data(as_text=True)
    charts = re.findall(r"<svg[^>]*>", html)
    assert charts and all('role="img"' in c and "aria-labelledby" in c for c in charts)
    assert html.count("<figure") <= html.count('<table class="report-table"')
    assert 'href="/berichte/berichte.css"' in html and client.get("/berichte/berichte.css").status_code == 200


def test_tables_counted_together_equal_tables_counted_one_by_one(app, town):
    from praevcase.reports import compose
    from praevcase.reports.definitions import PAGES
    from praevcase.reports.definitions import TABLES
    from praevcase.reports.definitions import Filters
    from praevcase.reports.periods import Period

    with arrange(app):
        for n in range(7):
            add_case(town, sozialraum="Süd", age_phase=AgePhase.grundschule, state=CaseState.in_support,
                     channel=IntakeChannel.familienbuero, created=at(2026, 5, 1 + n), agency=town.clinic)
        from praevcase.tenancy import set_scope

        set_scope(db.session, town.tenant.id)
        ctx = compose.Context.of(town.tenant)
        for filters in (Filters(Period.parse("2026-H1")), Filters(Period.parse("2026"), sozialraum="Süd")):
            for page in PAGES:
                together = compose.run_page(page, filters, ctx)
                alone = [compose.run(TABLES[key], filters, ctx) for key in PAGES[page].tables]
                assert [r.to_dict() for r in together] == [r.to_dict() for r in alone], page
