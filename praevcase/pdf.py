"""Printable PDF documents (fpdf2, pure Python): title, headings, paragraphs, key-value and data tables.

Used for the subject-access report, the minutes of case reviews and the report exports. Text is set
in DejaVu Sans, embedded as a subset (praevcase/fonts, Bitstream Vera licence), so the names of the
families print as written — Ayşe, Łukasz, Đorđe, Ольга, Ελένη —; the few characters the font lacks
are spelled out or decomposed (``pdf_text``). Documents carry no metadata beyond title and creator.

    doc = Document("Auskunft nach Art. 15 DSGVO", subtitle="Fall DN-2026-00042")
    doc.heading("Gespeicherte Daten")
    doc.key_values([("Fallnummer", "DN-2026-00042")])
    doc.table(["Datum", "Stelle"], [["01.12.2026", "Jugendamt"]])
    pdf_bytes = doc.output()
"""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos
from fpdf.enums import YPos
from fpdf.fonts import FontFace

_FONT = "DejaVu"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT_DIR = Path(__file__).resolve().parent / "fonts"
#: Characters the font may lack that have a readable spelling
_SPELLED = {"✓": "ja", "✗": "nein"}


@cache
def _coverage() -> frozenset[int]:
    """Code points the regular font has a glyph for (the bold face covers the same ranges)."""
    from fontTools.ttLib import TTFont

    with TTFont(FONT_DIR / _FONT_FILES[""], lazy=True) as font:
        return frozenset(font.getBestCmap())


def pdf_text(value: object) -> str:
    """*value* as text the font can print: as written where it has the glyph, else decomposed or "?"."""
    text = "" if value is None else str(value)
    covered = _coverage()
    out = []
    for ch in text:
        if ord(ch) in covered or ch in "\n\t":
            out.append(ch)
        elif ch in _SPELLED:
            out.append(_SPELLED[ch])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) in covered)
            out.append(base or "?")
    return "".join(out)


class _PDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, size=8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, pdf_text(f"{self.footer_text}   Seite {self.page_no()} von {{nb}}"), align="C")
        self.set_text_color(0, 0, 0)


class Document:
    """A simple A4 portrait document built top to bottom."""

    def __init__(self, title: str, *, subtitle: str | None = None, footer: str | None = None,
                 created: datetime | None = None):
        pdf = _PDF(orientation="portrait", unit="mm", format="A4")
        for style, name in _FONT_FILES.items():
            pdf.add_font(_FONT, style=style, fname=str(FONT_DIR / name))
        pdf.footer_text = footer or title
        pdf.set_title(pdf_text(title))
        pdf.set_creator("praevcase")
        if created is not None:
            pdf.set_creation_date(created)
        pdf.set_auto_page_break(auto=True, margin=18)
        pdf.set_margins(18, 18, 18)
        pdf.alias_nb_pages()
        pdf.add_page()
        pdf.set_font(_FONT, style="B", size=17)
        pdf.multi_cell(0, 8, pdf_text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            pdf.set_font(_FONT, size=11)
            pdf.set_text_color(70, 70, 70)
            pdf.multi_cell(0, 6, pdf_text(subtitle), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
        pdf.ln(3)
        self.pdf = pdf

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 14, 2: 12}.get(level, 11)
        self.pdf.ln(3 if level > 1 else 5)
        self.pdf.set_font(_FONT, style="B", size=size)
        self.pdf.multi_cell(0, size * 0.5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(1)

    def paragraph(self, text: str, *, size: int = 10, muted: bool = False) -> None:
        self.pdf.set_font(_FONT, size=size)
        if muted:
            self.pdf.set_text_color(80, 80, 80)
        self.pdf.multi_cell(0, size * 0.5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.ln(1.5)

    def key_values(self, pairs: Sequence[tuple[str, object]], *, key_width: float = 0.32) -> None:
        """A two-column table of labels and values (long values wrap)."""
        self.table([], [[k, v] for k, v in pairs], widths=[key_width, 1 - key_width], bold_first_column=True)

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[object]], *,
              widths: Sequence[float] | None = None, bold_first_column: bool = False, size: int = 9) -> None:
        """A data table with an optional header row; *widths* are fractions of the text width."""
        n = len(columns) or (len(rows[0]) if rows else 0)
        if n == 0:
            return
        self.pdf.set_font(_FONT, size=size)
        total = self.pdf.epw
        col_widths = tuple((w * total) for w in (widths or [1 / n] * n))
        with self.pdf.table(col_widths=col_widths, width=total, text_align="LEFT", line_height=size * 0.5,
                            first_row_as_headings=bool(columns), padding=1.2,
                            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 238, 242))) as t:
            if columns:
                header = t.row()
                for c in columns:
                    header.cell(pdf_text(c))
            for row in rows:
                r = t.row()
                for i, value in enumerate(row):
                    style = FontFace(emphasis="BOLD") if bold_first_column and i == 0 else None
                    r.cell(pdf_text(value), style=style)
        self.pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
