"""Aggregate SQL for the reports: counts and duration statistics grouped by dimensions.

Every statement groups and counts in the database. No statement selects a name, a birth date,
a case number or a row id: a source exposes only a time column and dimension columns (codes),
and the functions here return ``{(row key, column key): count}`` or per-group statistics.

Each fact source is one entry in :data:`SOURCES`: its time column (what the period filters), the
dimension columns a table can group or filter by, the joins and fixed conditions. A source is
always restricted to the tenant explicitly, in addition to praevcase.tenancy.
"""
from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import sqlalchemy as sa

from praevcase.cases.catalogue import AGE_PHASE_LABELS
from praevcase.cases.catalogue import CHANNEL_LABELS
from praevcase.cases.catalogue import NEED_LABELS
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.reports.definitions import Filters
from praevcase.reports.periods import LOCAL
from praevcase.reports.periods import month_label
from praevcase.reports.tables import DurationStats
from praevcase.reports.tables import Item
from praevcase.statemachine import TransitionHistory
from praevcase.tenants.models import Agency
from workflows.case import CLOSING_REASON_LABELS_DE
from workflows.case import STATE_LABELS_DE
from workflows.case import CaseState

CONSENT_EVENTS = {"submit": "asked", "confirm_consent": "given", "refuse_consent": "refused",
                  "withdraw_consent": "withdrawn"}
CONSENT_EVENT_LABELS = {"asked": "angefragt", "given": "erteilt", "refused": "abgelehnt", "withdrawn": "widerrufen"}
OPEN_STATES = (CaseState.consent_pending, CaseState.ready_for_review, CaseState.on_agenda, CaseState.in_support)


@dataclass(frozen=True)
class Source:
    """One kind of fact, with what it can be grouped and filtered by."""

    time: Any
    dims: dict[str, Any]
    select_from: Callable[[sa.Select], sa.Select]
    where: tuple[Any, ...] = ()
    #: Optional second timestamp: the duration in days runs from ``time`` to ``until``
    until: Any = None
    tenant_columns: tuple[Any, ...] = field(default_factory=tuple)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def month_key(column: Any) -> Any:
    """'YYYY-MM' of a timestamp in German local time (SQLite, the embedded default: UTC)."""
    if _dialect() == "postgresql":
        return sa.func.to_char(sa.func.timezone(str(LOCAL), column), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def _days(start: Any, end: Any) -> Any:
    if _dialect() == "postgresql":
        return sa.extract("epoch", end - start) / 86400.0
    return sa.func.julianday(end) - sa.func.julianday(start)


def _case_dims() -> dict[str, Any]:
    outcome = sa.case((Case.state == CaseState.closed, sa.literal("closed:") + sa.cast(Case.closing_reason, sa.String)),
                      else_=sa.cast(Case.state, sa.String))
    return {"channel": Case.channel, "sozialraum": Family.sozialraum, "age_phase": Case.age_phase,
            "agency": Case.origin_agency_id, "outcome": outcome}


def _with_family(q: sa.Select) -> sa.Select:
    return q.select_from(Case).join(Family, Family.id == Case.family_id)


def _cases() -> Source:
    return Source(Case.created_dt, _case_dims(), _with_family, (Case.state != CaseState.draft,),
                  tenant_columns=(Case.tenant_id, Family.tenant_id))


def _history_events(*triggers: str) -> Callable[[], Source]:
    def build() -> Source:
        dims = {**_case_dims(), "consent_event": sa.case(CONSENT_EVENTS, value=TransitionHistory.trigger)}

        def joins(q: sa.Select) -> sa.Select:
            return (q.select_from(TransitionHistory).join(Case, Case.id == TransitionHistory.object_id)
                    .join(Family, Family.id == Case.family_id))

        return Source(TransitionHistory.occurred_dt, dims, joins,
                      (TransitionHistory.workflow == "case", TransitionHistory.trigger.in_(triggers)),
                      tenant_columns=(TransitionHistory.tenant_id, Case.tenant_id, Family.tenant_id))

    return build


def _needs() -> Source:
    if _dialect() == "postgresql":
        need = sa.func.json_array_elements_text(Case.needs).table_valued("value").lateral("need")
    else:
        need = sa.func.json_each(Case.needs).table_valued("value").lateral("need")

    def joins(q: sa.Select) -> sa.Select:
        return _with_family(q).join(need, sa.true())

    return Source(Case.created_dt, {**_case_dims(), "need": need.c.value}, joins, (Case.state != CaseState.draft,),
                  tenant_columns=(Case.tenant_id, Family.tenant_id))


def _first_transition(*, trigger: str | None = None, from_state: str | None = None) -> Callable[[], Source]:
    """Cases with the time of their first transition of a kind (the duration runs from the intake).

    A correlated subquery per case of the period, so the history index (workflow, object_id,
    occurred_dt) answers it and only the period's cases are looked up.
    """

    def build() -> Source:
        conditions = [TransitionHistory.workflow == "case", TransitionHistory.object_id == Case.id,
                      TransitionHistory.tenant_id == Case.tenant_id]
        if trigger:
            conditions.append(TransitionHistory.trigger == trigger)
        if from_state:
            conditions.append(TransitionHistory.from_state == from_state)
        first = sa.select(sa.func.min(TransitionHistory.occurred_dt)).where(*conditions).scalar_subquery()
        return Source(Case.created_dt, _case_dims(), _with_family, (Case.state != CaseState.draft,), until=first,
                      tenant_columns=(Case.tenant_id, Family.tenant_id))

    return build


#: Fact source key → builder. Sources of features not installed yet are simply absent.
SOURCES: dict[str, Callable[[], Source]] = {
    "cases": _cases,
    "consent_events": _history_events(*CONSENT_EVENTS),
    "agenda_events": _history_events("put_on_agenda"),
    "needs": _needs,
    "time_to_review": _first_transition(from_state=CaseState.on_agenda.value),
    "time_to_lotse": _first_transition(trigger="assign_lotse"),
}


def _key(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _filtered(source: Source, filters: Filters, tenant_id: uuid.UUID, *columns: Any) -> sa.Select:
    start, end = filters.period.bounds()
    q = source.select_from(sa.select(*columns)).where(*source.where, source.time >= start, source.time < end)
    q = q.where(*(c == tenant_id for c in source.tenant_columns))
    for dim, value in (("sozialraum", filters.sozialraum), ("age_phase", filters.age_phase),
                       ("agency", filters.agency_id), ("channel", filters.channel)):
        if value is None:
            continue
        column = source.dims[dim]
        q = q.where(column.is_(None) if value == "" else column == value)
    return q


def _dimension(source: Source, key: str) -> Any:
    return month_key(source.time) if key == "month" else source.dims[key]


def counts(source_key: str, rows: str, cols: str | None, filters: Filters,
           tenant_id: uuid.UUID) -> dict[tuple[str, str], int]:
    """{(row key, column key): count} of the source's facts in the period and filters."""
    source = SOURCES[source_key]()
    dims = [_dimension(source, rows)] + ([_dimension(source, cols)] if cols else [])
    q = _filtered(source, filters, tenant_id, *dims, sa.func.count()).group_by(*dims)
    out: dict[tuple[str, str], int] = {}
    for row in db.session.execute(q):
        key = (_key(row[0]), _key(row[1]) if cols else "")
        out[key] = out.get(key, 0) + int(row[-1])
    return out


def durations(source_key: str, group: str, filters: Filters,
              tenant_id: uuid.UUID) -> tuple[dict[str, DurationStats], DurationStats]:
    """Per group and overall: n, median and quartiles of the days from ``time`` to ``until``."""
    source = SOURCES[source_key]()
    facts = _filtered(source, filters, tenant_id, _dimension(source, group).label("g"),
                      _days(source.time, source.until).label("days")).subquery("facts")
    if _dialect() != "postgresql":
        return _durations_in_python(facts)
    stats = [sa.func.count(), *(sa.func.percentile_cont(p).within_group(facts.c.days) for p in (0.5, 0.25, 0.75))]
    q = sa.select(facts.c.g, *stats).where(facts.c.days.is_not(None)).group_by(facts.c.g)
    per_group = {_key(r[0]): DurationStats(int(r[1]), r[2], r[3], r[4]) for r in db.session.execute(q)}
    r = db.session.execute(sa.select(*stats).where(facts.c.days.is_not(None))).one()
    return per_group, DurationStats(int(r[0]), r[1], r[2], r[3])


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
    if dimension == "agency":
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
