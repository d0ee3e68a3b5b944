"""CSV (UTF-8 with BOM, ';' for German Excel) and PDF of a report: the same protected results as the page."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from praevcase.pdf import Document
from praevcase.reports.formatting import decimal
from praevcase.reports.formatting import number
from praevcase.reports.suppression import SYMBOL
from praevcase.reports.tables import CountResult
from praevcase.reports.tables import DurationResult
from praevcase.reports.tables import Result
from praevcase.reports.tables import Unavailable

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def display(value: object) -> str:
    """A table value as the page and the PDF show it: 1.234 · 12,5 · • for withheld."""
    if value is None:
        return SYMBOL
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float):
        return decimal(value, 1)
    return str(value)


def _csv_value(value: object) -> str:
    if value is None:
        return SYMBOL
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # no thousands separator: German Excel reads 1234 as a number
    if isinstance(value, float):
        return decimal(value, 1).replace(".", "")
    text = str(value)
    # a label entered by someone ("=HYPERLINK(…)") must never become a spreadsheet formula
    return "'" + text if text.startswith(_FORMULA_START) else text


def _meta(result: Result) -> list[str]:
    definition = getattr(result, "definition", None)
    lines = []
    if definition is not None and definition.basis:
        lines.append(f"Bezug: {definition.basis}")
    if definition is not None and definition.note:
        lines.append(definition.note)
    return lines


def to_csv(title: str, subtitle: str, results: Sequence[Result]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_value(title)])
    writer.writerow([_csv_value(subtitle)])
    for result in results:
        writer.writerow([])
        writer.writerow([_csv_value(result.title)])
        if isinstance(result, Unavailable):
            writer.writerow([result.message])
            continue
        for line in _meta(result):
            writer.writerow([_csv_value(line)])
        writer.writerow([_csv_value(h) for h in result.header()])
        for row in result.body():
            writer.writerow([_csv_value(v) for v in row])
        writer.writerow([result.method])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _widths(n: int) -> list[float]:
    if n <= 2:
        return [0.7, 0.3][:n] if n == 2 else [1.0]
    first = 0.28 if n <= 8 else 0.2
    return [first] + [(1 - first) / (n - 1)] * (n - 1)


def to_pdf(title: str, subtitle: str, results: Sequence[Result], *, created: datetime) -> bytes:
    doc = Document(title, subtitle=subtitle, footer=f"{title} – ohne Einzeldaten", created=created)
    for result in results:
        doc.heading(result.title, level=2)
        if isinstance(result, Unavailable):
            doc.paragraph(result.message, muted=True)
            continue
        for line in _meta(result):
            doc.paragraph(line, size=9, muted=True)
        header = result.header()
        size = 9 if len(header) <= 8 else 6
        doc.table(header, [[display(v) for v in row] for row in result.body()], widths=_widths(len(header)),
                  bold_first_column=isinstance(result, CountResult | DurationResult), size=size)
        doc.paragraph(result.method, size=8, muted=True)
    return doc.output()
