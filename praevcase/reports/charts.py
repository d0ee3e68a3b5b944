"""Server-rendered SVG bar charts (pure: no JavaScript, no Flask), accessible and printable.

Each chart is an inline ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``; the
description lists every value in words, and the page shows the same numbers as a data table next
to the chart. Only presentation attributes are used (the Content-Security-Policy allows no inline
styles), in colours with at least 4.5:1 contrast on white. A withheld value (None) draws no bar,
only the suppression symbol, so a chart never shows more than its table.
"""
from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from markupsafe import Markup

from praevcase.reports.formatting import number
from praevcase.reports.suppression import SYMBOL

BAR = "#0b5cad"
TEXT = "#1b1f24"
MUTED = "#555e68"
GRID = "#c9d1da"
FONT = "system-ui, sans-serif"


def _attr(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def _nice_max(top: int) -> int:
    """A round upper end for the axis (1, 2, 5 × 10^n) at or above *top*."""
    if top <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= top:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= top:
            return step * magnitude
    return 10 * magnitude


def _ticks(top: int) -> list[int]:
    end = _nice_max(top)
    step = max(end // 5, 1) if end >= 5 else 1
    return list(range(0, end + 1, step))


def _describe(labels: Sequence[str], values: Sequence[int | None], unit: str) -> str:
    parts = [f"{label}: {number(v) if v is not None else 'unterdrückt'}"
             for label, v in zip(labels, values, strict=True)]
    return f"{unit} – " + "; ".join(parts) + "." if parts else f"{unit}: keine Werte."


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_attr(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc" font-family="{FONT}" font-size="12">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{escape(desc)}</desc>',
    ]


def column_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[int | None], *,
                 unit: str = "Fälle", width: int = 640, height: int = 260) -> Markup:
    """Vertical bars, one per label (for time series such as months)."""
    left, right, top, bottom = 44, 12, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _ticks(max((v for v in values if v is not None), default=0))
    scale = plot_h / ticks[-1]
    out = _open(chart_id, width, height, title, _describe(labels, values, unit))
    for t in ticks:
        y = top + plot_h - t * scale
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}" '
                   f'stroke-width="1" aria-hidden="true"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" '
                   f'aria-hidden="true">{number(t)}</text>')
    n = max(len(values), 1)
    slot = plot_w / n
    bar_w = max(min(slot * 0.7, 48), 2)
    for idx, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + idx * slot + (slot - bar_w) / 2
        cx = x + bar_w / 2
        if value is None:
            out.append(f'<text x="{cx:.1f}" y="{top + plot_h - 4:.1f}" text-anchor="middle" fill="{MUTED}" '
                       f'font-size="16" aria-hidden="true">{SYMBOL}</text>')
        else:
            h = value * scale
            out.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                       f'fill="{BAR}"><title>{escape(label)}: {number(value)} {escape(unit)}</title></rect>')
        out.append(f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="{TEXT}" '
                   f'aria-hidden="true">{escape(label)}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
               f'stroke="{TEXT}" stroke-width="1" aria-hidden="true"/>')
    out.append("</svg>")
    return Markup("\n".join(out))  # noqa: S704 - every label and value above went through escape()


def bar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[int | None], *,
              unit: str = "Fälle", width: int = 680, label_width: int = 310, bar_height: int = 22) -> Markup:
    """Horizontal bars with the label on the left and the value at the bar's end (categories)."""
    top, gap, right = 8, 8, 56
    height = top * 2 + max(len(values), 1) * (bar_height + gap)
    plot_w = width - label_width - right
    top_value = _nice_max(max((v for v in values if v is not None), default=0))
    out = _open(chart_id, width, height, title, _describe(labels, values, unit))
    for idx, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + idx * (bar_height + gap)
        mid = y + bar_height / 2 + 4
        short = label if len(label) <= 44 else label[:43] + "…"
        out.append(f'<text x="{label_width - 8}" y="{mid:.1f}" text-anchor="end" fill="{TEXT}" '
                   f'aria-hidden="true">{escape(short)}</text>')
        if value is None:
            out.append(f'<text x="{label_width + 4}" y="{mid + 1:.1f}" fill="{MUTED}" font-size="16" '
                       f'aria-hidden="true">{SYMBOL}</text>')
            continue
        w = plot_w * value / top_value
        out.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{BAR}">'
                   f'<title>{escape(label)}: {number(value)} {escape(unit)}</title></rect>')
        out.append(f'<text x="{label_width + w + 6:.1f}" y="{mid:.1f}" fill="{TEXT}" '
                   f'aria-hidden="true">{number(value)}</text>')
    out.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - top}" stroke="{TEXT}" '
               f'stroke-width="1" aria-hidden="true"/>')
    out.append("</svg>")
    return Markup("\n".join(out))  # noqa: S704 - every label and value above went through escape()
