"""A plain object standing in for an ORM row in the pure workflow tests."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from workflows import Workflow


class FakeRow:
    """Base of the generated fakes: holds a state and records every predicate call."""

    def __init__(self, state: enum.Enum, failing: Iterable[str] = ()) -> None:
        self.state = state
        self.failing = set(failing)
        self.calls: list[tuple[str, Any]] = []


def make_row(workflow: Workflow, state: enum.Enum | str, *, failing: Iterable[str] = ()) -> Any:
    """Return an object in *state* whose predicates pass, except those named in *failing*."""

    def predicate(name: str) -> Any:
        def check(self: FakeRow, event: Any) -> bool:
            self.calls.append((name, event))
            return name not in self.failing

        return check

    namespace = {name: predicate(name) for name in workflow.required_predicates}
    cls = type(f"Fake_{workflow.name}", (FakeRow,), namespace)
    return cls(workflow.state(state), failing)
