"""Text of the PDFs the product prints, as a reader sees it (pypdf reads the embedded font's Unicode map)."""
from __future__ import annotations

import io


def pdf_texts(body: bytes) -> list[tuple[int, float, float, str]]:
    """(page, x, y, text) of every text run."""
    from pypdf import PdfReader

    out = []
    for number, page in enumerate(PdfReader(io.BytesIO(body)).pages):
        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                out.append((number, round(tm[4], 1), round(tm[5], 1), text.strip()))

        page.extract_text(visitor_text=visit)
    return out


def pdf_text(body: bytes) -> str:
    """All text of the document, runs separated by spaces."""
    return " ".join(t for *_, t in pdf_texts(body))
