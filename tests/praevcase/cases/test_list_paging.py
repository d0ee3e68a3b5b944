"""The case list: each section shows its first cases and its total, and pages through all of them."""
from __future__ import annotations

import re

import pytest

from praevcase.cases import queries
from tests.conftest import login_as
from tests.praevcase.reports.conftest import town  # noqa: F401 - 24 cases ready for the case review


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(queries, "SECTION_LIMIT", 5)
    monkeypatch.setattr(queries, "PAGE_SIZE", 10)


def _numbers(html: str) -> list[str]:
    return re.findall(r">(TK-\d{4}-\d{5})<", html)


def test_a_section_shows_its_first_cases_its_total_and_pages_through_the_rest(app, client, town, small_pages):
    login_as(client, app, town.coordinator)
    overview = client.get("/faelle/").get_data(as_text=True)
    assert "(24)" in overview and len(_numbers(overview)) == 5 and "Alle 24 anzeigen" in overview
    seen = []
    for page in (1, 2, 3):
        html = client.get(f"/faelle/?abschnitt=ready_for_review&seite={page}").get_data(as_text=True)
        assert f"Seite {page} von 3" in html
        seen += _numbers(html)
    assert len(seen) == len(set(seen)) == 24
    assert _numbers(client.get("/faelle/?abschnitt=ready_for_review&seite=4").get_data(as_text=True)) == []


def test_an_unknown_section_or_page_is_not_found(app, client, town, small_pages):
    login_as(client, app, town.coordinator)
    assert client.get("/faelle/?abschnitt=lotse").status_code == 404  # not a section of the coordinator
    assert client.get("/faelle/?abschnitt=ready_for_review&seite=x").status_code == 404
