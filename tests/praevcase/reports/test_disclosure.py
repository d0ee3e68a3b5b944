"""Acceptance: no report output reveals a small cell or anything that identifies a family.

The town has 24 cases: Nord 12, Süd 9, Kleinraum 3 (k = 5). Every page, CSV, PDF and API
response is searched for the 3 of Kleinraum, for case numbers, names and birth dates.
"""
from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest

from praevcase.accounts.models import Role
from praevcase.accounts.tokens import create_token
from praevcase.database import utcnow
from tests.conftest import arrange
from tests.conftest import login_as
from tests.pdftext import pdf_texts
from tests.praevcase.reports.conftest import CANARY_BIRTH
from tests.praevcase.reports.conftest import CANARY_FAMILY
from tests.praevcase.reports.conftest import CANARY_GIVEN
from tests.praevcase.reports.conftest import CASE_NUMBER

SMALL = "Kleinraum"
H1 = "period=2026-H1"
WEB = ["/berichte/fallfluss", "/berichte/sozialraum", "/berichte/luecken", "/berichte/nachhaltigkeit",
       "/berichte/uebergaenge"]
SACHBERICHT = "/berichte/sachbericht?programme=jobcenter_observation&" + H1
API = ["/api/v1/reports/fallfluss", "/api/v1/reports/sozialraum", "/api/v1/reports/luecken",
       "/api/v1/reports/nachhaltigkeit", "/api/v1/reports/uebergaenge"]


# --- reading the outputs back -------------------------------------------------------------------


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, plus the text of every chart."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.charts: list[str] = []
        self._cell: list[str] | None = None
        self._svg = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag == "svg":
            self._svg += 1
            self.charts.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "svg":
            self._svg -= 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._svg:
            self.charts[-1] += data + "|"


def _cells_of(rows: list[list[str]], label: str) -> list[str]:
    """Cells in the row labelled *label* and in the column headed *label*."""
    out: list[str] = []
    header = next((r for r in rows if label in r[1:]), None)
    column = header.index(label) if header else None
    for row in rows:
        if row and row[0] == label:
            out += row[1:]
        if column is not None and row is not header and len(row) > column:
            out.append(row[column])
    return out


def html_cells(body: str, label: str) -> tuple[list[str], list[str]]:
    parser = _Tables()
    parser.feed(body)
    return [c for t in parser.tables for c in _cells_of(t, label)], parser.charts


def csv_cells(body: bytes, label: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    out, section = [], []
    for row in rows + [[]]:
        if len(row) <= 1:  # titles, notes and blank lines separate the tables
            out += _cells_of(section, label) if section else []
            section = []
        else:
            section.append(row)
    return out


def pdf_cells(body: bytes, label: str) -> list[str]:
    """Texts right of the row label *label* (same line) and below the column header *label*."""
    runs = pdf_texts(body)
    out = []
    for page, x, y, text in runs:
        if text != label:
            continue
        out += [t for p, x2, y2, t in runs if p == page and abs(y2 - y) < 0.5 and x2 > x]  # row
        out += [t for p, x2, y2, t in runs if p == page and abs(x2 - x) < 0.5 and y2 < y]  # column
    return out


def api_cells(payload: dict, label: str) -> list[int | None]:
    out: list[int | None] = []
    for table in payload.get("tables", []):
        columns = [c["label"] for c in table.get("columns") or []]
        for row in table.get("rows") or []:
            if row["label"] == label:
                out += row["values"] + [row.get("total")]
            if label in columns:
                out.append(row["values"][columns.index(label)])
        if label in columns:
            out.append(table["column_totals"][columns.index(label)])
        out += [i["value"] for i in table.get("entries") or [] if i["label"] == label]
    return out


def numbers_in(payload) -> list[int]:
    if isinstance(payload, dict):
        return [n for k, v in payload.items() if k != "k" for n in numbers_in(v)]
    if isinstance(payload, list):
        return [n for v in payload for n in numbers_in(v)]
    return [payload] if isinstance(payload, int) and not isinstance(payload, bool) else []


@pytest.fixture
def signed_in(app, client, town):
    """The statistics role signed in (web) and with a token (API); every family waits for a Kita place."""
    from datetime import timedelta

    from praevcase.database import new_id
    from praevcase.extensions import db
    from praevcase.offers.catalogue import OfferType
    from praevcase.referrals.models import Referral
    from workflows.referral import ReferralState

    login_as(client, app, town.statistics)
    with arrange(app):
        for case in town.cases:
            db.session.add(Referral(id=new_id(), tenant_id=town.tenant.id, created_dt=case.created_dt, case_id=case.id,
                                    offer_type=OfferType.kita_platz, state=ReferralState.waitlisted,
                                    provider_name="Träger", requested_dt=case.created_dt + timedelta(days=1)))
        _, token = create_token(town.statistics, name="t", scopes={Role.statistics}, now=utcnow())
    return {"Authorization": f"Bearer {token}"}


# --- the acceptance tests -----------------------------------------------------------------------


def test_three_cases_of_a_sozialraum_are_shown_nowhere(client, signed_in):
    seen = {"html": 0, "chart": 0, "csv": 0, "pdf": 0, "api": 0}
    for url in [f"{p}?{H1}" for p in WEB] + [SACHBERICHT]:
        response = client.get(url)
        assert response.status_code == 200, url
        cells, charts = html_cells(response.get_data(as_text=True), SMALL)
        assert "3" not in cells, url
        assert not any(re.search(rf"{SMALL}: 3\b", c) for c in charts), url
        seen["html"] += len(cells)
        seen["chart"] += sum(f"{SMALL}: unterdrückt" in c for c in charts)
        path, _, query = url.partition("?")
        cells = csv_cells(client.get(f"{path}.csv?{query}").data, SMALL)
        assert "3" not in cells, path
        seen["csv"] += len(cells)
        cells = pdf_cells(client.get(f"{path}.pdf?{query}").data, SMALL)
        assert "3" not in cells, path
        seen["pdf"] += len(cells)
    for url in [f"{p}?{H1}" for p in API] + ["/api/v1/reports/sachbericht?programme=jobcenter_observation&" + H1]:
        response = client.get(url, headers=signed_in)
        assert response.status_code == 200, url
        cells = api_cells(response.json, SMALL)
        assert 3 not in cells, url
        seen["api"] += len(cells)
    # the Kleinraum rows and columns were really there, in every format
    assert min(seen.values()) > 0 and seen["html"] == seen["csv"] == seen["api"], seen


def test_filtered_to_the_small_sozialraum_no_count_is_shown_at_all(client, signed_in):
    query = f"{H1}&sozialraum={SMALL}"
    for path in WEB:
        parser = _Tables()
        parser.feed(client.get(f"{path}?{query}").get_data(as_text=True))
        assert "3" not in {c for t in parser.tables for r in t for c in r}, path
        rows = list(csv.reader(io.StringIO(client.get(f"{path}.csv?{query}").data.decode("utf-8-sig")), delimiter=";"))
        assert "3" not in {c for r in rows for c in r}, path
        assert "3" not in {t for *_, t in pdf_texts(client.get(f"{path}.pdf?{query}").data)}, path
    for path in API:
        assert 3 not in numbers_in(client.get(f"{path}?{query}", headers=signed_in).json), path


def test_no_output_contains_a_case_number_a_name_or_a_birth_date(client, signed_in):
    forbidden = re.compile("|".join([CASE_NUMBER, CANARY_GIVEN, CANARY_FAMILY, CANARY_BIRTH.isoformat(),
                                     CANARY_BIRTH.strftime("%d.%m.%Y")]))
    urls = [f"{p}?{H1}" for p in WEB] + [SACHBERICHT, "/berichte/", "/berichte/erreichung?" + H1]
    bodies = []
    for url in urls:
        bodies.append(client.get(url).get_data(as_text=True))
        path, _, query = url.partition("?")
        if path not in ("/berichte/",):
            bodies.append(client.get(f"{path}.csv?{query}").data.decode("utf-8-sig"))
            bodies.append(" ".join(t for *_, t in pdf_texts(client.get(f"{path}.pdf?{query}").data)))
    for url in [f"{p}?{H1}" for p in API] + ["/api/v1/reports/", "/api/v1/reports/reach?" + H1]:
        bodies.append(json.dumps(client.get(url, headers=signed_in).json, ensure_ascii=False))
    assert len(bodies) > 25
    leaks = [m.group(0) for b in bodies for m in [forbidden.search(b)] if m]
    assert leaks == []


def test_the_seeded_family_really_has_a_case_number_name_and_birth_date(app, town):
    """Guard for the test above: the canaries exist in the database (sealed), so not finding them means something."""
    import sqlalchemy as sa

    from praevcase.extensions import db
    from praevcase.privacy.models import Family
    from praevcase.privacy.models import Person

    with arrange(app):
        numbers = db.session.scalars(sa.select(Family.case_number).where(Family.tenant_id == town.tenant.id)).all()
        assert len(numbers) == 24 and all(re.fullmatch(CASE_NUMBER, n) for n in numbers)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)
                                 .where(Person.tenant_id == town.tenant.id)) == 3
