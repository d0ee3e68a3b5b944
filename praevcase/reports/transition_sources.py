"""Fact sources of the transition report: Ü1/Ü2 protocols per Kita and school, and handovers on time.

Protocols belong to a school year (Ü1: the year of school entry; Ü2: the year the child enters
grade 5), so these sources are filtered by ``school_year == period.year``. "On time" means the
first handover happened before the school year started (1 August, local time, the NRW default).
Ü1 protocols count for the age phase "kita", Ü2 protocols for "grundschule"; the agency is the
writing institution.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from praevcase.privacy.models import Family
from praevcase.reports.sources import Join
from praevcase.reports.sources import Source
from praevcase.reports.sources import dialect
from praevcase.transitions.models import Handover
from praevcase.transitions.models import U1Protocol
from praevcase.transitions.models import U2Protocol
from workflows.u1_protocol import STATE_LABELS_DE as U1_LABELS
from workflows.u2_protocol import STATE_LABELS_DE as U2_LABELS

#: Values of the transition dimensions with their German labels
VOCABULARY: dict[str, dict[str, str]] = {
    "u1_state": {s.value: label for s, label in U1_LABELS.items()},
    "u2_state": {s.value: label for s, label in U2_LABELS.items()},
    "protocol": {"u1": "Ü1: Kita → Grundschule", "u2": "Ü2: Grundschule → weiterführende Schule"},
    "timeliness": {"on_time": "vor Schulbeginn übergeben", "late": "nach Schulbeginn übergeben",
                   "not_handed_over": "noch nicht übergeben", "deferred": "zurückgestellt"},
}


def school_start(year: Any) -> Any:
    """1 August of *year*, local midnight, as a timestamp the handover times compare with."""
    if dialect() == "postgresql":
        return sa.func.make_timestamptz(year, 8, 1, 0, 0, 0.0, "Europe/Berlin")
    return sa.func.datetime(sa.func.printf("%04d-08-01", year), "-2 hours")


def _protocols(model: Any, state_dim: str, age_phase: str) -> Callable[[], Source]:
    def build() -> Source:
        dims = {"institution": model.author_agency_id, "agency": model.author_agency_id,
                state_dim: model.state, "sozialraum": Family.sozialraum, "age_phase": sa.literal(age_phase)}
        family = Join(lambda q: q.join(Family, Family.id == model.family_id), Family.tenant_id)
        return Source(None, dims, lambda q: q.select_from(model), year=model.school_year,
                      tenant_columns=(model.tenant_id,), joins={"family": family},
                      needs={"sozialraum": ("family",)})

    return build


def _steps(model: Any, kind: str, age_phase: str, link: Any) -> sa.Select:
    first = sa.select(sa.func.min(Handover.handed_over_dt)).where(link == model.id).scalar_subquery()
    start = school_start(model.school_year)
    deferred = model.state == "deferred" if kind == "u1" else sa.false()
    timeliness = sa.case((deferred, "deferred"), (first.is_(None), "not_handed_over"), (first < start, "on_time"),
                         else_="late")
    return (sa.select(model.tenant_id.label("tenant_id"), model.school_year.label("year"),
                      sa.literal(kind).label("protocol"), timeliness.label("timeliness"),
                      model.author_agency_id.label("agency"), Family.sozialraum.label("sozialraum"),
                      sa.literal(age_phase).label("age_phase"))
            .select_from(model).join(Family, Family.id == model.family_id)
            .where(Family.tenant_id == model.tenant_id))


def _transition_steps() -> Source:
    steps = sa.union_all(_steps(U1Protocol, "u1", "kita", Handover.u1_protocol_id),
                         _steps(U2Protocol, "u2", "grundschule", Handover.u2_protocol_id)).subquery("steps")
    dims = {name: steps.c[name] for name in ("protocol", "timeliness", "agency", "sozialraum", "age_phase")}
    return Source(None, dims, lambda q: q.select_from(steps), year=steps.c.year, tenant_columns=(steps.c.tenant_id,))


def transition_sources() -> dict[str, Callable[[], Source]]:
    return {"u1_protocols": _protocols(U1Protocol, "u1_state", "kita"),
            "u2_protocols": _protocols(U2Protocol, "u2_state", "grundschule"),
            "transition_steps": _transition_steps}
