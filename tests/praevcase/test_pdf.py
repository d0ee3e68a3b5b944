"""PDF documents print the families' names as written, and never break on a character the font lacks."""
from __future__ import annotations

from praevcase.pdf import Document
from praevcase.pdf import pdf_text
from tests.pdftext import pdf_text as read_back


def test_names_in_many_scripts_are_printed_as_written():
    names = ["Ayşe Yılmaz", "Łukasz Wójcik", "Đorđe Petrović", "Ольга Иванова", "Ελένη Παπαδοπούλου"]
    doc = Document("Auskunft nach Art. 15 DSGVO", subtitle="Fall DN-2026-00042")
    doc.key_values([("Name", n) for n in names])
    doc.table(["Datum", "Stelle"], [["01.12.2026", "Jugendamt – „Frühe Hilfen“"]])
    printed = read_back(doc.output())
    for name in names:
        assert name in printed
    assert "„Frühe Hilfen“" in printed


def test_a_character_without_a_glyph_is_replaced_not_fatal():
    assert pdf_text("王 Müller ✓ क") == "? Müller ✓ ?"
    assert read_back(Document("王").output()).startswith("?")
