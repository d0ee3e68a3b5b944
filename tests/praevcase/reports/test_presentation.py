"""German number formats, the period grid and the SVG charts (pure helpers of the reports)."""
from __future__ import annotations

import re
from datetime import UTC
from datetime import date
from datetime import datetime
from xml.etree import ElementTree

import pytest

from praevcase.reports import charts
from praevcase.reports.formatting import days
from praevcase.reports.formatting import decimal
from praevcase.reports.formatting import number
from praevcase.reports.formatting import percent
from praevcase.reports.formatting import rate
from praevcase.reports.periods import InvalidPeriod
from praevcase.reports.periods import Period
from praevcase.reports.periods import choices
from praevcase.reports.periods import month_label

NBSP = "\u00a0"


def test_reach_rate_is_shown_exactly_in_german_format():
    assert rate(774, 977) == f"774/977 = 79,2{NBSP}%"
    assert rate(1234, 5000) == f"1.234/5.000 = 24,7{NBSP}%"
    assert rate(None, 977) == "•/977"


@pytest.mark.parametrize(("value", "places", "text"), [
    (79.25, 1, "79,3"), (0.05, 1, "0,1"), (1234.5, 1, "1.234,5"), (12, 0, "12"), (-3.45, 1, "-3,5"),
])
def test_decimals_round_half_up_with_a_comma(value, places, text):
    assert decimal(value, places) == text


def test_numbers_percent_and_days():
    assert number(1234567) == "1.234.567" and number(None) == "•"
    assert percent(1, 3) == f"33,3{NBSP}%" and percent(0, 0) == "–" and percent(None, 5) == "•"
    assert days(1) == "1 Tag" and days(12) == "12 Tage" and days(12.5) == "12,5 Tage" and days(None) == "•"


def test_periods_are_whole_years_half_years_or_quarters_in_local_time():
    h1 = Period.parse("2026-H1")
    assert h1.months == [f"2026-0{m}" for m in range(1, 7)] and h1.label == "1. Halbjahr 2026"
    start, end = h1.bounds()
    assert start == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # midnight in Berlin (CET)
    assert end == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # midnight in Berlin (CEST)
    assert Period.parse("2026-Q4").bounds()[1] == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert Period.parse("2025").label == "Jahr 2025" and len(Period.parse("2025").months) == 12
    assert Period.containing(date(2026, 8, 3), "H").code == "2026-H2"
    assert month_label("2026-03") == "März 2026"


@pytest.mark.parametrize("code", ["", "2026-H3", "2026-Q5", "2026-01", "1999", "2026-01-01..2026-06-14", "x"])
def test_free_or_malformed_periods_are_refused(code):
    with pytest.raises(InvalidPeriod):
        Period.parse(code)


def test_period_choices_end_today():
    codes = [c for c, _ in choices(date(2026, 5, 2), years_back=0)]
    assert codes == ["2026", "2026-H1", "2026-Q2", "2026-Q1"]


def _svg(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))  # noqa: S314 - our own SVG


def test_a_column_chart_is_an_accessible_image_without_a_bar_for_a_withheld_value():
    svg = charts.column_chart("c1", "Aufnahmen <je> Monat", ["Jan.", "Feb.", "März"], [12, None, 0])
    root = _svg(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{ns}title").text == "Aufnahmen <je> Monat"
    assert root.find(f"{ns}desc").text == "Fälle – Jan.: 12; Feb.: unterdrückt; März: 0."
    bars = [r for r in root.iter(f"{ns}rect")]
    assert len(bars) == 2  # Jan. and the zero-height March; none for the withheld February
    assert "style=" not in str(svg)  # the CSP forbids inline styles


def test_a_bar_chart_labels_each_bar_with_its_value():
    svg = str(charts.bar_chart("c2", "Zugänge", ["Jobcenter", "Geburtsklinik"], [1234, None]))
    assert ">1.234<" in svg and "•" in svg
    assert re.search(r'<rect [^>]*fill="#0b5cad"', svg)
