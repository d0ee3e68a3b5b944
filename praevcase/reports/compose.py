"""Putting reports together: definitions + aggregate queries + suppression → results for one tenant.

The web pages, the CSV and PDF exports and the API all call these functions, so each shows the
same protected numbers.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from praevcase.extensions import db
from praevcase.reports import queries
from praevcase.reports.definitions import PAGES
from praevcase.reports.definitions import SACHBERICHT_TABLES
from praevcase.reports.definitions import TABLES
from praevcase.reports.definitions import CountTable
from praevcase.reports.definitions import Definition
from praevcase.reports.definitions import Filters
from praevcase.reports.formatting import rate
from praevcase.reports.models import DENOMINATOR_KINDS
from praevcase.reports.models import ReachDenominator
from praevcase.reports.sources import tune_for_reports
from praevcase.reports.tables import CountResult
from praevcase.reports.tables import Result
from praevcase.reports.tables import Unavailable
from praevcase.reports.tables import build_counts
from praevcase.reports.tables import build_durations
from praevcase.tenants.settings import effective_settings


@dataclass(frozen=True)
class Context:
    """The tenant a report is computed for, with its threshold k and settings."""

    tenant_id: uuid.UUID
    k: int
    settings: dict[str, Any]

    @classmethod
    def of(cls, tenant: Any) -> Context:
        """The context of *tenant*; also tunes the transaction for aggregate queries."""
        settings = effective_settings(tenant.settings)
        tune_for_reports()
        return cls(tenant.id, int(settings["suppression_k"]), settings)

    def vocabulary(self, dimension: str, filters: Filters) -> list:
        return queries.vocabulary(dimension, filters, self.settings, self.tenant_id)


def run(definition: Definition, filters: Filters, ctx: Context,
        counts: dict[tuple[str, str], int] | None = None) -> Result:
    """One table of a report, protected (*counts*: already queried together with other tables)."""
    if definition.source not in queries.SOURCES:
        return Unavailable(definition)
    if isinstance(definition, CountTable):
        if counts is None:
            counts = queries.counts(definition.source, definition.rows, definition.cols, filters, ctx.tenant_id)
        cols = ctx.vocabulary(definition.cols, filters) if definition.cols else None
        return build_counts(definition, counts, rows=ctx.vocabulary(definition.rows, filters), cols=cols, k=ctx.k)
    stats, overall = queries.durations(definition.source, definition.group, filters, ctx.tenant_id)
    return build_durations(definition, stats, overall, groups=ctx.vocabulary(definition.group, filters), k=ctx.k)


def run_many(definitions: list[Definition], filters: Filters, ctx: Context) -> list[Result]:
    """Several tables under the same filters; count tables of one source share one query."""
    by_source: dict[str, list[CountTable]] = {}
    for d in definitions:
        if isinstance(d, CountTable) and d.source in queries.SOURCES:
            by_source.setdefault(d.source, []).append(d)
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for source, group in by_source.items():
        results = queries.counts_many(source, [(d.rows, d.cols) for d in group], filters, ctx.tenant_id)
        counts.update({d.key: r for d, r in zip(group, results, strict=True)})
    return [run(d, filters, ctx, counts.get(d.key)) for d in definitions]


def run_page(page_key: str, filters: Filters, ctx: Context) -> list[Result]:
    return run_many([TABLES[key] for key in PAGES[page_key].tables], filters, ctx)


def sachbericht(filters: Filters, ctx: Context) -> list[Result]:
    """The half-year report of one intake programme: its row of each base table.

    The base tables are computed for all programmes of the period (no other filter) and
    protected as a whole, so the Sachbericht shows exactly what the overview tables publish.
    """
    if filters.channel is None:
        raise ValueError("the Sachbericht needs a programme")
    results = run_many([TABLES[key] for _, key in SACHBERICHT_TABLES], Filters(filters.period), ctx)
    return [result.row_slice(filters.channel, title) if isinstance(result, CountResult) else result
            for (title, _), result in zip(SACHBERICHT_TABLES, results, strict=True)]


@dataclass(frozen=True)
class ReachRow:
    programme: str
    programme_label: str
    kind: str
    kind_label: str
    sozialraum: str
    numerator: int | None
    denominator: int
    source_note: str | None

    @property
    def display(self) -> str:
        return rate(self.numerator, self.denominator)

    @property
    def percent(self) -> float | None:
        if self.numerator is None:
            return None
        return round(self.numerator * 100 / self.denominator, 1)


def reach(filters: Filters, ctx: Context) -> tuple[list[ReachRow], CountResult | None]:
    """Reach rates of the period: intakes of the programme ÷ the denominator entered for it.

    The numerators are read from the protected table "Aufnahmen nach Zugang und Sozialraum" of
    the same period: its row total for the whole municipality, its cell for one Sozialraum.
    """
    period = filters.period
    if period.kind == "Q":
        return [], None
    half = period.n if period.kind == "H" else 0
    denominators = db.session.scalars(
        sa.select(ReachDenominator).where(ReachDenominator.tenant_id == ctx.tenant_id,
                                          ReachDenominator.year == period.year, ReachDenominator.half == half)
        .order_by(ReachDenominator.programme, ReachDenominator.kind, ReachDenominator.sozialraum)).all()
    base = run(TABLES["channel_by_sozialraum"], Filters(period), ctx)
    if not isinstance(base, CountResult):
        return [], None
    rows_index = {r.key: i for i, r in enumerate(base.rows)}
    cols_index = {c.key: j for j, c in enumerate(base.cols)}
    labels = {r.key: r.label for r in base.rows}
    out = []
    for d in denominators:
        i = rows_index.get(d.programme)
        if i is None:
            numerator: int | None = 0
        elif d.sozialraum == "":
            numerator = base.row_total(i)
        else:
            j = cols_index.get(d.sozialraum)
            numerator = 0 if j is None else base.table.cell(i, j)
        out.append(ReachRow(d.programme, labels.get(d.programme, d.programme), d.kind,
                            DENOMINATOR_KINDS.get(d.kind, d.kind), d.sozialraum, numerator, d.value, d.source_note))
    return out, base

