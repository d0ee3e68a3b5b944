"""Cell suppression, proved: no withheld value can be recomputed from what a table publishes.

The oracle is independent of the algorithm: it searches all non-negative integer completions of
the published cells and totals (tables up to 4×4) for one in which the withheld entry has
another value.
"""
from __future__ import annotations

from itertools import product

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from praevcase.reports.suppression import METHOD_DE
from praevcase.reports.suppression import SYMBOL
from praevcase.reports.suppression import Protected
from praevcase.reports.suppression import method_de
from praevcase.reports.suppression import protect
from praevcase.reports.suppression import protect_series

# --- the oracle ---------------------------------------------------------------------------------


def _published(p: Protected):
    """What a reader sees: inner cells, and the totals the table shows (None = withheld)."""
    cells = [[p.cell(i, j) for j in range(p.n_cols)] for i in range(p.n_rows)]
    rows = [p.row_total(i) for i in range(p.n_rows)] if p.shows_row_totals else [None] * p.n_rows
    cols = [p.col_total(j) for j in range(p.n_cols)] if p.shows_col_totals else [None] * p.n_cols
    grand = p.grand_total() if p.shows_grand_total else None
    return cells, rows, cols, grand


def _other_completion_exists(p: Protected, entry: tuple[int, int], bound: int) -> bool:
    """Is there a completion consistent with everything published where *entry* differs?

    Pins *entry* to each other value in turn (nearest first) and searches for a completion.
    """
    cells, rows, cols, grand = _published(p)
    truth = p._value(entry)
    i, j = entry
    for value in sorted(range(bound + 1), key=lambda v: (abs(v - truth), v)):
        if value == truth:
            continue
        c = [row[:] for row in cells]
        r, k, g = rows[:], cols[:], grand
        if i < p.n_rows and j < p.n_cols:
            c[i][j] = value
        elif i < p.n_rows:
            r[i] = value
        elif j < p.n_cols:
            k[j] = value
        else:
            g = value
        if _completion_exists(p, c, r, k, g, bound):
            return True
    return False


def _completion_exists(p: Protected, cells, rows, cols, grand, bound: int) -> bool:
    """Depth-first search for non-negative integers in the None cells meeting every known total."""
    unknown = [(i, j) for i in range(p.n_rows) for j in range(p.n_cols) if cells[i][j] is None]
    grid = [[v if v is not None else 0 for v in row] for row in cells]
    last_in_row = {i: max((n for n, (a, _) in enumerate(unknown) if a == i), default=-1) for i in range(p.n_rows)}
    last_in_col = {j: max((n for n, (_, b) in enumerate(unknown) if b == j), default=-1) for j in range(p.n_cols)}

    def consistent(final: bool) -> bool:
        for i in range(p.n_rows):
            s = sum(grid[i])
            if rows[i] is not None and (s > rows[i] or (final and s != rows[i])):
                return False
        for j in range(p.n_cols):
            s = sum(r[j] for r in grid)
            if cols[j] is not None and (s > cols[j] or (final and s != cols[j])):
                return False
        s = sum(map(sum, grid))
        return grand is None or not (s > grand or (final and s != grand))

    def candidates(n: int) -> list[int]:
        """Values of unknown cell n that the known totals still allow (forced where last)."""
        i, j = unknown[n]
        high, forced = bound, set()
        for total, rest_of, is_last in (
            (rows[i], lambda: sum(grid[i]), last_in_row[i] == n),
            (cols[j], lambda: sum(r[j] for r in grid), last_in_col[j] == n),
            (grand, lambda: sum(map(sum, grid)), n == len(unknown) - 1),
        ):
            if total is not None:
                rest = total - rest_of()
                high = min(high, rest)
                if is_last:
                    forced.add(rest)
        if forced:
            return [v for v in forced if 0 <= v <= high] if len(forced) == 1 else []
        near_truth = p._value((i, j))
        return sorted(range(high + 1), key=lambda v: (abs(v - near_truth), v))

    def search(n: int) -> bool:
        if not consistent(final=n == len(unknown)):
            return False
        if n == len(unknown):
            return True
        i, j = unknown[n]
        for v in candidates(n):
            grid[i][j] = v
            if search(n + 1):
                return True
        grid[i][j] = 0
        return False

    return search(0)


def assert_protected(p: Protected) -> None:
    bound = p._value((p.n_rows, p.n_cols)) + 1
    for entry in sorted(p.suppressed):
        assert _other_completion_exists(p, entry, bound), f"{entry} can be recomputed in {p._counts}"


# --- strategies ---------------------------------------------------------------------------------

small_counts = st.one_of(st.integers(0, 4), st.integers(0, 9), st.just(0))


@st.composite
def tables(draw, max_rows=4, max_cols=4, counts=small_counts):
    r = draw(st.integers(1, max_rows))
    c = draw(st.integers(1, max_cols))
    return [[draw(counts) for _ in range(c)] for _ in range(r)]


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), k=st.integers(2, 6), margins=st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_no_suppressed_value_is_determined_by_the_published_cells_and_totals(table, k, margins):
    p = protect(table, k, row_totals=margins[0], col_totals=margins[1], grand_total=margins[2])
    assert_protected(p)


@settings(max_examples=300, deadline=None, database=None)
@given(values=st.lists(small_counts, min_size=1, max_size=8), k=st.integers(2, 6))
def test_one_way_tables_with_a_total_are_protected(values, k):
    p = protect_series(values, k)
    assert_protected(p)


@settings(max_examples=300, deadline=None, database=None)
@given(table=tables(max_rows=9, max_cols=14, counts=st.integers(0, 40)), k=st.integers(2, 10))
def test_every_small_count_is_withheld_and_every_published_value_is_true(table, k):
    p = protect(table, k)
    for (i, j), v in ((e, p._value(e)) for e in product(range(p.n_rows + 1), range(p.n_cols + 1))):
        if 0 < v < k:
            assert (i, j) in p.primary and (i, j) in p.suppressed
        if (i, j) not in p.suppressed:
            assert p._published((i, j)) == v
    assert p.primary <= p.suppressed


@settings(max_examples=300, deadline=None, database=None)
@given(table=tables(max_rows=9, max_cols=14, counts=st.integers(0, 40)), k=st.integers(2, 10))
def test_every_line_with_a_suppressed_entry_has_at_least_two(table, k):
    p = protect(table, k)
    lines = [[(i, j) for j in range(p.n_cols + 1)] for i in range(p.n_rows + 1)]
    lines += [[(i, j) for i in range(p.n_rows + 1)] for j in range(p.n_cols + 1)]
    for line in lines:
        hidden = [e for e in line if e in p.suppressed]
        assert len(hidden) != 1, (line, sorted(p.suppressed))


@settings(max_examples=100, deadline=None, database=None)
@given(table=tables(max_rows=6, max_cols=6, counts=st.integers(0, 15)), k=st.integers(2, 6))
def test_the_same_table_always_gives_the_same_pattern(table, k):
    assert protect(table, k).suppressed == protect([list(r) for r in table], k).suppressed


# --- examples -----------------------------------------------------------------------------------


def test_a_small_cell_is_withheld_together_with_a_partner_in_its_row_and_column():
    p = protect([[3, 10, 12], [8, 9, 7], [6, 11, 2]], 5)
    assert p.primary == {(0, 0), (2, 2)}
    # the cheapest cycle through both small cells: (0,0) (0,2) (2,2) (2,0)
    assert p.suppressed == {(0, 0), (0, 2), (2, 2), (2, 0)}
    assert p.cell(0, 0) is None and p.cell(1, 1) == 9
    assert [p.row_total(i) for i in range(3)] == [25, 24, 19]
    assert p.grand_total() == 68


def test_zero_is_published_and_totals_below_k_are_withheld():
    p = protect([[0, 0], [2, 9]], 5)
    assert p.cell(0, 0) == 0 and p.row_total(0) == 0
    assert p.cell(1, 0) is None  # 2 < 5
    assert p.col_total(0) is None  # the column total is 2 as well


@pytest.mark.parametrize("table", [
    # (0,2) would be a bridge between two protected blocks
    [[1, 1, 3, 20], [1, 1, 20, 20], [20, 20, 1, 1], [20, 20, 1, 1]],
    # the 2 would be "protected" by zeros, but a 0 cannot go lower
    [[0, 0], [2, 6], [9, 6]],
])
def test_the_line_rule_alone_is_not_enough_and_the_audit_repairs_it(monkeypatch, table):
    from praevcase.reports import suppression

    with monkeypatch.context() as m:
        m.setattr(suppression._Network, "apply_audit", lambda self: False)
        with pytest.raises(AssertionError, match="can be recomputed"):
            assert_protected(protect(table, 5))
    assert_protected(protect(table, 5))


def test_an_empty_table_publishes_nothing_withheld():
    p = protect([], 5)
    assert p.suppressed == frozenset() and p.grand_total() == 0


def test_negative_or_ragged_tables_are_refused():
    with pytest.raises(ValueError):
        protect([[1, -1]], 5)
    with pytest.raises(ValueError):
        protect([[1, 2], [3]], 5)


def test_unpublished_totals_cannot_be_read():
    p = protect_series([7, 8], 5)
    with pytest.raises(LookupError):
        p.row_total(0)
    assert p.grand_total() == 15


def test_the_method_sentence_names_k_and_the_symbol():
    assert method_de(5) == ("Werte unter k=5 sind unterdrückt (•); zusätzlich sind weitere Zellen unterdrückt, "
                            "damit sich unterdrückte Werte nicht aus Summen errechnen lassen.")
    assert SYMBOL in METHOD_DE
