"""Statistical disclosure control for two-way tables of counts: primary and complementary suppression.

Pure (no Flask, no SQLAlchemy): a table of non-negative counts goes in, the decision which cells
and totals may be published comes out. Every aggregate praevcase shows (page, CSV, PDF, API) is
built from a :class:`Protected` table and reads values only through its accessors.

The method, as printed under each table (:data:`METHOD_DE`):

1. **Primary suppression.** A count ``0 < n < k`` is suppressed, for inner cells *and* for row,
   column and grand totals (a total is a count of families like any other). ``k`` is the
   tenant's ``suppression_k`` (default 5).
   A **zero is published**: "no family in this cell" is not information about a family. The
   remaining risk of a zero is group disclosure (all families of a row share one attribute
   when the other cells of the row are 0); a zero never identifies anyone, and suppressing
   zeros would hide most of a sparse table, so we accept it and say so here.
2. **Complementary suppression.** Published cells and totals are linear equations
   (row i: cells = row total; column j: cells = column total; totals = grand total). We view
   the table with its totals as a flow network (rows → columns → grand total → rows): every
   entry is an arc, every row/column a node, and a completion of the table is a circulation
   with non-negative flows. A suppressed entry can take another value consistent with what is
   published if and only if it lies on a cycle of suppressed entries along which it can be
   shifted by one without any entry becoming negative (a cycle in the residual graph). Because
   the constraint matrix of such a network is totally unimodular, the set of consistent values
   of each entry is a whole interval of integers, so "shiftable by one" means "the interval
   holds more than one value".

   a. *Line rule*: every row and column (totals row/column included) that holds a suppressed
      entry must hold at least two (an unpublished total counts as one). Where a line has one,
      the entry of least information loss is added (one that also completes the crossing line
      first, then the smallest ``value + 1``, totals only at a heavy penalty so that totals
      stay identical across the tables a page shows, then position).
   b. *Audit*: the line rule is necessary, not sufficient (a suppressed entry can be a bridge
      between two cycles, and a suppressed 0 cannot go lower). Every suppressed entry is
      checked exactly with the residual-graph test; a pinned entry gets the cheapest
      (least-information-loss, shortest-path) set of further suppressions that puts it on a
      shiftable cycle.

   Both steps repeat until nothing changes (a fixed point; suppression only grows, so it ends).
   Ties are broken by position, so the same table always yields the same pattern.

Not covered here (stated in the README's Reports section): differences between tables that
are published for overlapping populations (e.g. a filtered and an unfiltered view). The report
layer limits that risk with fixed period grids and by deriving every view of a page from one
protected table.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

#: Shown in place of a suppressed value.
SYMBOL = "•"

#: The method in one German sentence, printed under every table (format with k=…).
METHOD_DE = ("Werte unter k={k} sind unterdrückt (•); zusätzlich sind weitere Zellen unterdrückt, "
             "damit sich unterdrückte Werte nicht aus Summen errechnen lassen.")

#: Position in the extended table: (i, j) with i == n_rows the column-totals row and
#: j == n_cols the row-totals column; (n_rows, n_cols) is the grand total.
Entry = tuple[int, int]
_Node = tuple[str, int]

#: Suppressing a total costs this many times a cell: totals are shared by the tables and charts
#: of one page, so they are only suppressed where nothing else protects.
TOTAL_PENALTY = 1_000_000


def method_de(k: int) -> str:
    """The German method sentence for threshold *k*."""
    return METHOD_DE.format(k=k)


@dataclass(frozen=True)
class Protected:
    """A table of counts with the decision which entries are published.

    Read values only through :meth:`cell`, :meth:`row_total`, :meth:`col_total` and
    :meth:`grand_total`: they return ``None`` for a suppressed entry.
    """

    _counts: tuple[tuple[int, ...], ...] = field(repr=False)
    n_rows: int
    n_cols: int
    k: int
    #: Published positions whose value is withheld (primary and complementary)
    suppressed: frozenset[Entry]
    #: The subset suppressed because the value itself is below k
    primary: frozenset[Entry]
    shows_row_totals: bool = True
    shows_col_totals: bool = True
    shows_grand_total: bool = True

    def _value(self, e: Entry) -> int:
        i, j = e
        if i < self.n_rows and j < self.n_cols:
            return self._counts[i][j]
        if i < self.n_rows:
            return sum(self._counts[i])
        if j < self.n_cols:
            return sum(row[j] for row in self._counts)
        return sum(map(sum, self._counts))

    def _published(self, e: Entry) -> int | None:
        return None if e in self.suppressed else self._value(e)

    def cell(self, i: int, j: int) -> int | None:
        """The count of row *i*, column *j*, or None if suppressed."""
        if not (0 <= i < self.n_rows and 0 <= j < self.n_cols):
            raise IndexError((i, j))
        return self._published((i, j))

    def row_total(self, i: int) -> int | None:
        if not self.shows_row_totals:
            raise LookupError("row totals are not published for this table")
        return self._published((i, self.n_cols))

    def col_total(self, j: int) -> int | None:
        if not self.shows_col_totals:
            raise LookupError("column totals are not published for this table")
        return self._published((self.n_rows, j))

    def grand_total(self) -> int | None:
        if not self.shows_grand_total:
            raise LookupError("the grand total is not published for this table")
        return self._published((self.n_rows, self.n_cols))

    def is_suppressed(self, i: int, j: int) -> bool:
        """Is the entry at extended position (i, j) withheld?"""
        return (i, j) in self.suppressed

    @property
    def any_suppressed(self) -> bool:
        return bool(self.suppressed)


def protect(counts: Sequence[Sequence[int]], k: int, *, row_totals: bool = True, col_totals: bool = True,
            grand_total: bool = True) -> Protected:
    """Decide which entries of *counts* (and of its totals) may be published under threshold *k*.

    The totals are always the sums of the cells: a table whose cells overlap (one case with two
    needs) publishes "mentions", never a separately counted total the equations would not know.
    """
    table = tuple(tuple(int(v) for v in row) for row in counts)
    n_rows = len(table)
    n_cols = len(table[0]) if table else 0
    if any(len(row) != n_cols for row in table):
        raise ValueError("rows of different length")
    if any(v < 0 for row in table for v in row):
        raise ValueError("counts must not be negative")
    if k < 1:
        raise ValueError("k must be at least 1")
    net = _Network(table, n_rows, n_cols, row_totals=row_totals, col_totals=col_totals, grand_total=grand_total)
    primary = frozenset(e for e in net.shown if 0 < net.value[e] < k)
    net.hidden |= primary
    if n_rows and n_cols:
        net.complete()
    return Protected(table, n_rows, n_cols, k, frozenset(net.hidden), primary,
                     row_totals, col_totals, grand_total)


def protect_series(values: Sequence[int], k: int, *, total: bool = True) -> Protected:
    """A one-way table (one column): cells are rows; only the grand total is published."""
    return protect([[v] for v in values], k, row_totals=False, col_totals=False, grand_total=total)


class _Network:
    """The extended table as a circulation: rows → columns → totals node → rows."""

    def __init__(self, table: tuple[tuple[int, ...], ...], n_rows: int, n_cols: int, *, row_totals: bool,
                 col_totals: bool, grand_total: bool):
        self.r, self.c = n_rows, n_cols
        self.value: dict[Entry, int] = {}
        for i in range(n_rows + 1):
            for j in range(n_cols + 1):
                self.value[(i, j)] = self._sum(table, i, j)
        self.entries: list[Entry] = sorted(self.value)
        self.shown: frozenset[Entry] = frozenset(
            e for e in self.entries
            if (e[0] < n_rows and e[1] < n_cols)
            or (e[0] < n_rows and e[1] == n_cols and row_totals)
            or (e[0] == n_rows and e[1] < n_cols and col_totals)
            or (e == (n_rows, n_cols) and grand_total))
        #: Published entries that are withheld
        self.hidden: set[Entry] = set()

    def _sum(self, table: tuple[tuple[int, ...], ...], i: int, j: int) -> int:
        if i < self.r and j < self.c:
            return table[i][j]
        if i < self.r:
            return sum(table[i])
        if j < self.c:
            return sum(row[j] for row in table)
        return sum(map(sum, table))

    # --- structure -------------------------------------------------------------------------

    def unknown(self, e: Entry) -> bool:
        """Not readable by the public: withheld, or a total that is not published at all."""
        return e in self.hidden or e not in self.shown

    def ends(self, e: Entry) -> tuple[_Node, _Node]:
        """(tail, head) of the arc of entry *e* (flow direction of the circulation)."""
        i, j = e
        row_node: _Node = ("r", i)  # i == r: the node of the grand total's inflow
        col_node: _Node = ("c", j)  # j == c: the node of the grand total's outflow
        inner_or_grand = (i < self.r) == (j < self.c)
        return (row_node, col_node) if inner_or_grand else (col_node, row_node)

    def line_entries(self, line: _Node) -> list[Entry]:
        kind, n = line
        if kind == "r":
            return [(n, j) for j in range(self.c + 1)]
        return [(i, n) for i in range(self.r + 1)]

    def lines(self) -> list[_Node]:
        return [("r", i) for i in range(self.r + 1)] + [("c", j) for j in range(self.c + 1)]

    def cost(self, e: Entry) -> int:
        """Information lost by withholding *e*: one cell plus its value; totals far dearer."""
        inner = e[0] < self.r and e[1] < self.c
        return (1 + self.value[e]) * (1 if inner else TOTAL_PENALTY)

    def arcs(self, e: Entry) -> Iterable[tuple[_Node, _Node]]:
        """Residual arcs: raise the flow of *e* (always), lower it (only while it is positive)."""
        tail, head = self.ends(e)
        yield tail, head
        if self.value[e] > 0:
            yield head, tail

    # --- the fixed point -------------------------------------------------------------------

    def complete(self) -> None:
        while True:
            changed = self.apply_line_rule()
            changed |= self.apply_audit()
            if not changed:
                return

    def apply_line_rule(self) -> bool:
        changed = False
        again = True
        while again:
            again = False
            for line in self.lines():
                if self._needs_partner(line):
                    self.hidden.add(self._partner(line))
                    changed = again = True
        return changed

    def _needs_partner(self, line: _Node) -> bool:
        unknown = [e for e in self.line_entries(line) if self.unknown(e)]
        return len(unknown) == 1 and unknown[0] in self.hidden

    def _partner(self, line: _Node) -> Entry:
        candidates = [e for e in self.line_entries(line) if not self.unknown(e)]
        if not candidates:  # cannot happen: a line with one unknown entry has published ones
            raise AssertionError("line without a candidate")

        def key(e: Entry) -> tuple[int, int, Entry]:
            crossing: _Node = ("c", e[1]) if line[0] == "r" else ("r", e[0])
            return (0 if self._needs_partner(crossing) else 1, self.cost(e), e)

        return min(candidates, key=key)

    def apply_audit(self) -> bool:
        changed = False
        for e in sorted(self.hidden):
            if not self.shiftable(e):
                self.hidden |= self.cheapest_cycle(e)
                changed = True
        return changed

    # --- exact test and repair -------------------------------------------------------------

    def _residual(self, skip: Entry) -> dict[_Node, list[_Node]]:
        adjacency: dict[_Node, list[_Node]] = {}
        for e in self.entries:
            if e != skip and self.unknown(e):
                for tail, head in self.arcs(e):
                    adjacency.setdefault(tail, []).append(head)
        return adjacency

    def shiftable(self, e: Entry) -> bool:
        """Can the withheld entry *e* take another value consistent with everything published?"""
        adjacency = self._residual(e)
        tail, head = self.ends(e)
        if _reaches(adjacency, head, tail):  # raise e by one around a cycle
            return True
        return self.value[e] > 0 and _reaches(adjacency, tail, head)  # or lower it

    def cheapest_cycle(self, e: Entry) -> set[Entry]:
        """Published entries to withhold so that *e* lies on a shiftable cycle (least cost)."""
        tail, head = self.ends(e)
        options = [self._cheapest_path(e, head, tail)]
        if self.value[e] > 0:
            options.append(self._cheapest_path(e, tail, head))
        found = [o for o in options if o is not None]
        if not found:  # cannot happen: raising arcs alone connect every node of the network
            raise AssertionError("no cycle through a suppressed entry")
        return min(found, key=lambda o: (o[0], sorted(o[1])))[1]

    def _cheapest_path(self, skip: Entry, source: _Node, target: _Node) -> tuple[int, set[Entry]] | None:
        """Dijkstra over residual arcs: unknown entries cost 0, published ones their cost."""
        out: dict[_Node, list[tuple[_Node, Entry, int]]] = {}
        for e in self.entries:
            if e != skip:
                step = 0 if self.unknown(e) else self.cost(e)
                for tail, head in self.arcs(e):
                    out.setdefault(tail, []).append((head, e, step))
        best: dict[_Node, int] = {source: 0}
        via: dict[_Node, tuple[_Node, Entry]] = {}
        queue: list[tuple[int, _Node]] = [(0, source)]
        done: set[_Node] = set()
        while queue:
            dist, node = heapq.heappop(queue)
            if node in done:
                continue
            done.add(node)
            if node == target:
                break
            for head, e, step in out.get(node, ()):
                if head not in done and dist + step < best.get(head, dist + step + 1):
                    best[head] = dist + step
                    via[head] = (node, e)
                    heapq.heappush(queue, (dist + step, head))
        if target not in done:
            return None
        added: set[Entry] = set()
        node = target
        while node != source:
            node, e = via[node]
            if not self.unknown(e):
                added.add(e)
        return best[target], added


def _reaches(adjacency: dict[_Node, list[_Node]], source: _Node, target: _Node) -> bool:
    seen = {source}
    stack = [source]
    while stack:
        node = stack.pop()
        if node == target:
            return True
        for nxt in adjacency.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
