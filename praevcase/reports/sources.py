"""Fact sources of the reports: what each kind of fact can be grouped and filtered by (SQL, no execution).

A source exposes a time column (what the period filters) or a year column (school years), the
dimension columns a table can group or filter by, its base table, optional joins that are added
only when a dimension or filter needs them, and fixed conditions. Every table of a source is
restricted to the tenant explicitly (in addition to praevcase.tenancy). No source exposes a name,
a birth date, a case number or a row id.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import sqlalchemy as sa

from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.reports.periods import LOCAL
from praevcase.statemachine import TransitionHistory
from workflows.case import CaseState

CONSENT_EVENTS = {"submit": "asked", "confirm_consent": "given", "refuse_consent": "refused",
                  "withdraw_consent": "withdrawn"}


@dataclass(frozen=True)
class Join:
    """A table a source joins only when a dimension or filter needs it (tenant-checked as well)."""

    apply: Callable[[sa.Select], sa.Select]
    tenant_column: Any
    after: tuple[str, ...] = ()


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
    #: Or a join that brings it: (query, tenant id, period start) → (joined query, end column)
    until_join: Callable[[sa.Select, Any, Any], tuple[sa.Select, Any]] | None = None
    #: The end is a calendar date (a contact day): count whole days from the local date of ``time``
    calendar_days: bool = False
    #: School-year sources: filtered by ``year == period.year`` instead of the time column
    year: Any = None
    #: Optional joins by name, and the joins each dimension needs
    joins: dict[str, Join] = field(default_factory=dict)
    needs: dict[str, tuple[str, ...]] = field(default_factory=dict)


def dialect() -> str:
    return db.session.get_bind().dialect.name


def tune_for_reports() -> None:
    """Aggregates over 100 000 rows: no JIT (its compile time exceeds its gain here), enough memory
    to hash and sort in memory, and plans for the actual period (a generic plan cannot know whether
    a range holds a hundred cases or a hundred thousand). Local to the request's transaction."""
    if dialect() == "postgresql":
        for setting in ("jit = off", "work_mem = '64MB'", "plan_cache_mode = force_custom_plan"):
            db.session.execute(sa.text(f"SET LOCAL {setting}"))


def month_key(column: Any) -> Any:
    """'YYYY-MM' of a timestamp in German local time (SQLite, the embedded default: UTC)."""
    if dialect() == "postgresql":
        return sa.func.to_char(sa.func.timezone(str(LOCAL), column), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def days_between(start: Any, end: Any) -> Any:
    if dialect() == "postgresql":
        return sa.extract("epoch", end - start) / 86400.0
    return sa.func.julianday(end) - sa.func.julianday(start)


def calendar_days_between(start: Any, end_date: Any) -> Any:
    """Whole days from the local date of timestamp *start* to the date *end_date*."""
    if dialect() == "postgresql":
        return end_date - sa.cast(sa.func.timezone(str(LOCAL), start), sa.Date)
    return sa.func.julianday(end_date) - sa.func.julianday(sa.func.date(start))


def case_dims() -> dict[str, Any]:
    outcome = sa.case((Case.state == CaseState.closed, sa.literal("closed:") + sa.cast(Case.closing_reason, sa.String)),
                      else_=sa.cast(Case.state, sa.String))
    return {"channel": Case.channel, "sozialraum": Family.sozialraum, "age_phase": Case.age_phase,
            "agency": Case.origin_agency_id, "outcome": outcome}


#: The family (for its Sozialraum), joined to the cases only where the Sozialraum is asked for
FAMILY = Join(lambda q: q.join(Family, Family.id == Case.family_id), Family.tenant_id)


def on_cases(dims: dict[str, Any], *, where: tuple[Any, ...] = (), until: Any = None,
              extra: Callable[[sa.Select], sa.Select] | None = None) -> Source:
    def base(q: sa.Select) -> sa.Select:
        q = q.select_from(Case)
        return extra(q) if extra else q

    return Source(Case.created_dt, dims, base, (Case.state != CaseState.draft, *where), until=until,
                  tenant_columns=(Case.tenant_id,), joins={"family": FAMILY}, needs={"sozialraum": ("family",)})


def _cases() -> Source:
    return on_cases(case_dims())


def _history_events(*triggers: str) -> Callable[[], Source]:
    """Case transitions of the given triggers; the case (and its family) only joined when needed."""

    def build() -> Source:
        dims = {**case_dims(), "consent_event": sa.case(CONSENT_EVENTS, value=TransitionHistory.trigger)}
        joins = {"case": Join(lambda q: q.join(Case, Case.id == TransitionHistory.object_id), Case.tenant_id),
                 "family": Join(FAMILY.apply, Family.tenant_id, after=("case",))}
        needs = {d: ("case",) for d in case_dims()} | {"sozialraum": ("case", "family")}
        return Source(TransitionHistory.occurred_dt, dims, lambda q: q.select_from(TransitionHistory),
                      (TransitionHistory.workflow == "case", TransitionHistory.trigger.in_(triggers)),
                      tenant_columns=(TransitionHistory.tenant_id,), joins=joins, needs=needs)

    return build


def needs_source() -> Source:
    """One fact per recorded need of a case (a case can have several)."""
    if dialect() == "postgresql":
        need = sa.func.json_array_elements_text(Case.needs).table_valued("value").lateral("need")
    else:
        # SQLite's table-valued functions see the columns to their left without LATERAL
        need = sa.func.json_each(Case.needs).table_valued("value").alias("need")
    return on_cases({**case_dims(), "need": need.c.value}, extra=lambda q: q.join(need, sa.true()))


def case_sources() -> dict[str, Callable[[], Source]]:
    return {
        "cases": _cases,
        "consent_events": _history_events(*CONSENT_EVENTS),
        "needs": needs_source,
        # the milestones are columns of the case, set once by the case operations (the history has the
        # same facts; reading them from there cost a join over all transitions: 0.6-1.0 s at 1 M cases)
        "time_to_review": lambda: on_cases(case_dims(), until=Case.reviewed_dt),
        "time_to_lotse": lambda: on_cases(case_dims(), until=Case.first_lotse_dt),
    }
