"""Report results: counts in, protected tables out (pure).

Every number a page, CSV, PDF or API response shows is read from one of these results, and the
results read counts only through :class:`praevcase.reports.suppression.Protected`. A view of a
result (a chart, the row of one programme in the Sachbericht) shows a subset of what the
protected table publishes, which can never reveal more than the table itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from praevcase.reports.definitions import DIMENSIONS
from praevcase.reports.definitions import CountTable
from praevcase.reports.definitions import Definition
from praevcase.reports.definitions import DurationTable
from praevcase.reports.suppression import Protected
from praevcase.reports.suppression import method_de
from praevcase.reports.suppression import protect
from praevcase.reports.suppression import protect_series

NO_VALUE = "ohne Angabe"
#: Shown where a statistic does not exist (the median of no cases), as opposed to a withheld one
NOT_APPLICABLE = "–"


@dataclass(frozen=True)
class Item:
    """One value of a dimension: its code and its German label."""

    key: str
    label: str


def _axis(vocabulary: Sequence[Item], seen: set[str]) -> list[Item]:
    """The vocabulary in its order, then values that occur in the data but not in it."""
    known = {i.key for i in vocabulary}
    extra = sorted(k for k in seen if k not in known)
    return list(vocabulary) + [Item(k, NO_VALUE if k == "" else k) for k in extra]


@dataclass(frozen=True)
class CountResult:
    definition: CountTable
    rows: list[Item]
    #: One-way tables have a single column labelled with the measure
    cols: list[Item]
    table: Protected

    @property
    def title(self) -> str:
        return self.definition.title

    @property
    def one_way(self) -> bool:
        return self.definition.cols is None

    @property
    def k(self) -> int:
        return self.table.k

    @property
    def method(self) -> str:
        return method_de(self.k)

    @property
    def row_header(self) -> str:
        return DIMENSIONS[self.definition.rows]

    @property
    def col_header(self) -> str:
        return DIMENSIONS[self.definition.cols] if self.definition.cols else self.definition.measure

    def cells(self, i: int) -> list[int | None]:
        return [self.table.cell(i, j) for j in range(len(self.cols))]

    def row_total(self, i: int) -> int | None:
        return None if self.one_way else self.table.row_total(i)

    def col_totals(self) -> list[int | None]:
        if self.one_way:
            return [self.table.grand_total()]
        return [self.table.col_total(j) for j in range(len(self.cols))]

    def grand_total(self) -> int | None:
        return self.table.grand_total()

    def chart_series(self) -> tuple[list[str], list[int | None]]:
        """Labels and values of the chart: row totals, or column totals for charts over time."""
        if self.one_way:
            return [r.label for r in self.rows], [self.table.cell(i, 0) for i in range(len(self.rows))]
        if self.definition.chart == "cols":
            return [c.label for c in self.cols], self.col_totals()
        return [r.label for r in self.rows], [self.row_total(i) for i in range(len(self.rows))]

    def header(self) -> list[str]:
        if self.one_way:
            return [self.row_header, self.definition.measure]
        return [self.row_header, *(c.label for c in self.cols), "Summe"]

    def body(self) -> list[list[str | int | None]]:
        """Rows of label and values (None = withheld), the totals row last."""
        out: list[list[str | int | None]] = []
        for i, row in enumerate(self.rows):
            out.append([row.label, *self.cells(i)] + ([] if self.one_way else [self.row_total(i)]))
        out.append(["Summe", *self.col_totals()] + ([] if self.one_way else [self.grand_total()]))
        return out

    def to_dict(self) -> dict:
        return {
            "kind": "counts",
            "rows": [{"key": r.key, "label": r.label, "values": self.cells(i),
                      **({} if self.one_way else {"total": self.row_total(i)})} for i, r in enumerate(self.rows)],
            "columns": [{"key": c.key, "label": c.label} for c in self.cols],
            "column_totals": self.col_totals(),
            "grand_total": self.grand_total(),
        }

    def row_slice(self, key: str, title: str) -> SliceResult:
        """The row *key* of this table as a list of its own (e.g. one programme in the Sachbericht)."""
        if self.one_way:
            raise TypeError("a one-way table has no rows to slice")
        i = next((n for n, r in enumerate(self.rows) if r.key == key), None)
        if i is None:  # no case of this row at all: every value is a published 0
            return SliceResult(title, self.col_header, self.definition.measure, self.cols, [0] * len(self.cols),
                               0, self.k)
        return SliceResult(title, self.col_header, self.definition.measure, self.cols, self.cells(i),
                           self.row_total(i), self.k)


@dataclass(frozen=True)
class SliceResult:
    """One row of a protected two-way table, shown as a list with its total."""

    title: str
    item_header: str
    measure: str
    items: list[Item]
    values: list[int | None]
    total: int | None
    k: int

    @property
    def method(self) -> str:
        return method_de(self.k)

    def header(self) -> list[str]:
        return [self.item_header, self.measure]

    def body(self) -> list[list[str | int | None]]:
        return [[item.label, v] for item, v in zip(self.items, self.values, strict=True)] + [["Summe", self.total]]

    def to_dict(self) -> dict:
        return {"kind": "list", "title": self.title,
                "entries": [{"key": i.key, "label": i.label, "value": v} for i, v in zip(self.items, self.values,
                                                                                     strict=True)],
                "total": self.total}


def build_counts(definition: CountTable, counts: Mapping[tuple[str, str], int], *, rows: Sequence[Item],
                 cols: Sequence[Item] | None, k: int) -> CountResult:
    """Protect the counts keyed (row key, column key); one-way tables use the column key ""."""
    row_axis = _axis(rows, {r for r, _ in counts})
    if definition.cols is None:
        col_axis = [Item("", definition.measure)]
        series = [counts.get((r.key, ""), 0) for r in row_axis]
        return CountResult(definition, row_axis, col_axis, protect_series(series, k))
    col_axis = _axis(cols or [], {c for _, c in counts})
    if definition.rows != "month":  # a category without any case is left out (a time axis is not)
        row_axis = [r for r in row_axis if any(counts.get((r.key, c.key), 0) for c in col_axis)]
    matrix = [[counts.get((r.key, c.key), 0) for c in col_axis] for r in row_axis]
    return CountResult(definition, row_axis, col_axis, protect(matrix, k))


@dataclass(frozen=True)
class DurationStats:
    """Days between the two events of a duration: count, median and quartiles."""

    n: int
    median: float | None = None
    p25: float | None = None
    p75: float | None = None


@dataclass(frozen=True)
class DurationResult:
    definition: DurationTable
    groups: list[Item]
    #: The n of every group, protected as a one-way table with its total
    table: Protected
    stats: dict[str, DurationStats]
    overall: DurationStats

    @property
    def title(self) -> str:
        return self.definition.title

    @property
    def k(self) -> int:
        return self.table.k

    @property
    def method(self) -> str:
        return method_de(self.k) + " Lage- und Streuungsmaße stehen nur bei veröffentlichter Fallzahl."

    def header(self) -> list[str]:
        return [DIMENSIONS[self.definition.group], "Fälle", "Median (Tage)", "25 % bis (Tage)", "75 % bis (Tage)"]

    def _row(self, label: str, n: int | None, stats: DurationStats) -> list[str | int | float | None]:
        if n == 0:
            return [label, 0, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE]
        if n is None or n < self.k:  # a median of fewer than k cases describes too few families
            return [label, n, None, None, None]
        return [label, n, stats.median, stats.p25, stats.p75]

    def body(self) -> list[list[str | int | float | None]]:
        out = [self._row(g.label, self.table.cell(i, 0), self.stats.get(g.key, DurationStats(0)))
               for i, g in enumerate(self.groups)]
        out.append(self._row("Gesamt", self.table.grand_total(), self.overall))
        return out

    def to_dict(self) -> dict:
        keys = ["n", "median_days", "p25_days", "p75_days"]

        def values(row: list) -> dict:
            n, *stats = row[1:]
            return dict(zip(keys, [n, *(round(v, 1) if isinstance(v, float) else None for v in stats)], strict=True))

        rows = self.body()
        return {"kind": "durations",
                "groups": [{"key": g.key, "label": g.label, **values(r)} for g, r in zip(self.groups, rows[:-1],
                                                                                       strict=True)],
                "overall": {"key": "", "label": "Gesamt", **values(rows[-1])}}


def build_durations(definition: DurationTable, stats: Mapping[str, DurationStats], overall: DurationStats, *,
                    groups: Sequence[Item], k: int) -> DurationResult:
    axis = _axis(groups, set(stats))
    series = protect_series([stats[g.key].n if g.key in stats else 0 for g in axis], k)
    return DurationResult(definition, axis, series, dict(stats), overall)


@dataclass(frozen=True)
class Unavailable:
    """A table whose source is not recorded in praevcase yet."""

    definition: Definition

    @property
    def title(self) -> str:
        return self.definition.title

    @property
    def message(self) -> str:
        return f"Noch nicht verfügbar: dafür müssen zuerst {self.definition.needs_feature} erfasst werden."

    def to_dict(self) -> dict:
        return {"kind": "unavailable", "message": self.message}


@dataclass(frozen=True)
class Listing:
    """Rows computed from protected results (e.g. reach rates), ready for a page or an export."""

    title: str
    columns: list[str]
    rows: list[list[object]]
    method: str

    def header(self) -> list[str]:
        return self.columns

    def body(self) -> list[list[object]]:
        return self.rows


Result = CountResult | DurationResult | SliceResult | Unavailable | Listing
