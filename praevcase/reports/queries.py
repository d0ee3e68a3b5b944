"""Aggregate SQL for the reports: counts and duration statistics of the fact sources, and vocabularies.

Every statement groups and counts in the database; the functions return ``{(row key, column key):
count}`` or per-group statistics, never rows. The sources (what can be counted, by what) are in
praevcase/reports/sources.py and praevcase/reports/transition_sources.py: one entry each in
:data:`SOURCES`.
"""
from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from praevcase.cases.catalogue import AGE_PHASE_LABELS
from praevcase.cases.catalogue import CHANNEL_LABELS
from praevcase.cases.catalogue import NEED_LABELS
from praevcase.extensions import db
from praevcase.reports.definitions import Filters
from praevcase.reports.periods import LOCAL
from praevcase.reports.periods import month_label
from praevcase.reports.referral_sources import HELD
from praevcase.reports.referral_sources import VOCABULARY as REFERRAL_VOCABULARY
from praevcase.reports.referral_sources import referral_sources
from praevcase.reports.sources import Source
from praevcase.reports.sources import calendar_days_between
from praevcase.reports.sources import case_sources
from praevcase.reports.sources import days_between
from praevcase.reports.sources import dialect
from praevcase.reports.sources import month_key
from praevcase.reports.tables import DurationStats
from praevcase.reports.tables import Item
from praevcase.reports.transition_sources import VOCABULARY as TRANSITION_VOCABULARY
from praevcase.reports.transition_sources import transition_sources
from praevcase.sessions.models import ReviewSession
from praevcase.tenants.models import Agency
from workflows.case import CLOSING_REASON_LABELS_DE
from workflows.case import STATE_LABELS_DE
from workflows.case import CaseState

CONSENT_EVENT_LABELS = {"asked": "angefragt", "given": "erteilt", "refused": "abgelehnt", "withdrawn": "widerrufen"}
OPEN_STATES = (CaseState.consent_pending, CaseState.ready_for_review, CaseState.on_agenda, CaseState.in_support)


#: Fact source key → builder. Sources of features not installed yet are simply absent.
SOURCES: dict[str, Callable[[], Source]] = {**case_sources(), **transition_sources(), **referral_sources()}


def _key(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _filtered(source: Source, filters: Filters, tenant_id: uuid.UUID, used: set[str], *columns: Any) -> sa.Select:
    """The source's facts in the period and filters; joins only what *used* dimensions and filters need."""
    start, end = filters.period.bounds()
    wanted = {"sozialraum": filters.sozialraum, "age_phase": filters.age_phase, "agency": filters.agency_id,
              "channel": filters.channel}
    wanted = {dim: value for dim, value in wanted.items() if value is not None}
    q = source.select_from(sa.select(*columns))
    joined: list[str] = []
    for dim in sorted(used | set(wanted)):
        for name in source.needs.get(dim, ()):
            if name not in joined:
                joined.append(name)
    for name in sorted(joined, key=lambda n: len(source.joins[n].after)):
        q = source.joins[name].apply(q)
    tenant_columns = [*source.tenant_columns, *(source.joins[n].tenant_column for n in joined)]
    q = q.where(*source.where, *(c == tenant_id for c in tenant_columns))
    if source.year is not None:
        q = q.where(source.year == filters.period.year)
    else:
        q = q.where(source.time >= start, source.time < end)
    for dim, value in wanted.items():
        column = source.dims[dim]
        q = q.where(column.is_(None) if value == "" else column == value)
    return q


def _dimension(source: Source, key: str) -> Any:
    return month_key(source.time) if key == "month" else source.dims[key]


def counts(source_key: str, rows: str, cols: str | None, filters: Filters,
           tenant_id: uuid.UUID) -> dict[tuple[str, str], int]:
    """{(row key, column key): count} of the source's facts in the period and filters."""
    return counts_many(source_key, [(rows, cols)], filters, tenant_id)[0]


def counts_many(source_key: str, shapes: list[tuple[str, str | None]], filters: Filters,
                tenant_id: uuid.UUID) -> list[dict[tuple[str, str], int]]:
    """The counts of several tables of one source in one pass over its facts (GROUPING SETS).

    A page shows several tables of the cases of one period; one scan instead of one per table.
    SQLite (the embedded default) has no GROUPING SETS: one query per table there.
    """
    source = SOURCES[source_key]()
    if len(shapes) > 1 and dialect() != "postgresql":
        return [counts_many(source_key, [shape], filters, tenant_id)[0] for shape in shapes]
    dims = list(dict.fromkeys(d for shape in shapes for d in shape if d))
    columns = {d: _dimension(source, d).label(f"d_{n}") for n, d in enumerate(dims)}
    q = _filtered(source, filters, tenant_id, set(dims), *columns.values(), sa.func.count())
    if len(shapes) == 1:
        q = q.group_by(*columns.values())
    else:
        sets = list(dict.fromkeys(tuple(d for d in shape if d) for shape in shapes))
        q = q.group_by(sa.func.grouping_sets(*(sa.tuple_(*(columns[d] for d in s)) for s in sets)))
        q = q.add_columns(sa.func.grouping(*columns.values()))
    outs: list[dict[tuple[str, str], int]] = [{} for _ in shapes]
    for row in db.session.execute(q):
        values = dict(zip(dims, row[:len(dims)], strict=True))
        # GROUPING(...) has a bit set for every column the row is *not* grouped by
        absent = {d for n, d in enumerate(dims) if len(shapes) > 1 and row[-1] >> (len(dims) - 1 - n) & 1}
        for out, (rows, cols) in zip(outs, shapes, strict=True):
            if absent != set(dims) - {rows, cols}:
                continue
            key = (_key(values[rows]), _key(values[cols]) if cols else "")
            out[key] = out.get(key, 0) + int(row[len(dims)])
    return outs


def durations(source_key: str, group: str, filters: Filters,
              tenant_id: uuid.UUID) -> tuple[dict[str, DurationStats], DurationStats]:
    """Per group and overall: n, median and quartiles of the days from ``time`` to ``until``.

    The facts are a materialised CTE, so the per-case lookup of the end event runs once per case.
    """
    source = SOURCES[source_key]()
    start, _ = filters.period.bounds()
    base = _filtered(source, filters, tenant_id, {group}, _dimension(source, group).label("g"))
    if source.until_join is not None:
        base, until = source.until_join(base, tenant_id, start)
    else:
        until = source.until
    days = (calendar_days_between if source.calendar_days else days_between)(source.time, until)
    facts = base.add_columns(days.label("days")).cte("facts")
    if dialect() != "postgresql":
        return _durations_in_python(facts)
    facts = facts.prefix_with("MATERIALIZED")
    stats = [sa.func.count(), *(sa.func.percentile_cont(p).within_group(facts.c.days) for p in (0.5, 0.25, 0.75))]
    q = sa.select(facts.c.g, *stats).where(facts.c.days.is_not(None)).group_by(sa.func.grouping_sets(
        sa.tuple_(facts.c.g), sa.tuple_()))
    per_group: dict[str, DurationStats] = {}
    overall = DurationStats(0)
    for r in db.session.execute(q.add_columns(sa.func.grouping(facts.c.g))):
        stats_row = DurationStats(int(r[1]), r[2], r[3], r[4])
        if r[5]:
            overall = stats_row
        else:
            per_group[_key(r[0])] = stats_row
    return per_group, overall


def _durations_in_python(facts: Any) -> tuple[dict[str, DurationStats], DurationStats]:
    """SQLite has no percentile function: fetch the day counts (no ids) and compute them here."""
    values: dict[str, list[float]] = defaultdict(list)
    for g, d in db.session.execute(sa.select(facts.c.g, facts.c.days).where(facts.c.days.is_not(None))):
        values[_key(g)].append(float(d))

    def stats(xs: list[float]) -> DurationStats:
        if not xs:
            return DurationStats(0)
        q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
        return DurationStats(len(xs), statistics.median(xs), q[0], q[2])

    return {g: stats(xs) for g, xs in values.items()}, stats([x for xs in values.values() for x in xs])


# --- vocabulary: the values of each dimension with German labels --------------------------------


def vocabulary(dimension: str, filters: Filters, settings: dict[str, Any], tenant_id: uuid.UUID) -> list[Item]:
    """Values of *dimension* in their display order (values found only in the data follow)."""
    if dimension == "month":
        return [Item(m, month_label(m)) for m in filters.period.months]
    if dimension == "channel":
        return [Item(c.value, label) for c, label in CHANNEL_LABELS.items()]
    if dimension == "sozialraum":
        return [Item(s, s) for s in settings.get("sozialraeume", [])]
    if dimension == "age_phase":
        return [Item(a.value, label) for a, label in AGE_PHASE_LABELS.items()]
    for known in (TRANSITION_VOCABULARY, REFERRAL_VOCABULARY):
        if dimension in known:
            return [Item(k, v) for k, v in known[dimension].items()]
    if dimension == "session":
        start, end = filters.period.bounds()
        q = (sa.select(ReviewSession.starts_dt)
             .where(ReviewSession.tenant_id == tenant_id, ReviewSession.starts_dt >= start,
                    ReviewSession.starts_dt < end, ReviewSession.state.in_(HELD))
             .order_by(ReviewSession.starts_dt))
        days = [dt.astimezone(LOCAL).date() for dt in db.session.scalars(q)]
        return [Item(d.isoformat(), d.strftime("%d.%m.%Y")) for d in days]
    if dimension in ("agency", "institution"):
        q = sa.select(Agency.id, Agency.name).where(Agency.tenant_id == tenant_id).order_by(Agency.name)
        return [Item(str(i), n) for i, n in db.session.execute(q)]
    if dimension == "outcome":
        return ([Item(s.value, f"offen: {STATE_LABELS_DE[s]}") for s in OPEN_STATES]
                + [Item(f"closed:{r.value}", f"abgeschlossen: {label}")
                   for r, label in CLOSING_REASON_LABELS_DE.items()]
                + [Item(CaseState.escalated.value, STATE_LABELS_DE[CaseState.escalated])])
    if dimension == "consent_event":
        return [Item(k, v) for k, v in CONSENT_EVENT_LABELS.items()]
    if dimension == "need":
        return [Item(n.value, label) for n, label in NEED_LABELS.items()]
    return []
