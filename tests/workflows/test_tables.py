"""Structural checks on every transition table and on define_workflow's validation."""

from __future__ import annotations

import ast
import enum
import sys
from collections import deque
from pathlib import Path
from typing import Any

import pytest

import workflows
from tests.workflows.fakes import make_row
from workflows import WORKFLOWS
from workflows import Workflow
from workflows import fire
from workflows.base import define_workflow
from workflows.case import OPEN_STATES
from workflows.case import CaseState
from workflows.case import ClosingReason

PACKAGE = Path(workflows.__file__).parent
NAMES = sorted(WORKFLOWS)


def test_workflow_keys() -> None:
    assert list(WORKFLOWS) == [
        "case",
        "referral",
        "u1_protocol",
        "u2_protocol",
        "review_session",
        "consent",
    ]
    assert all(wf.name == key for key, wf in WORKFLOWS.items())


@pytest.mark.parametrize("name", NAMES)
def test_required_predicates_equal_table_conditions(name: str) -> None:
    workflow = WORKFLOWS[name]
    used = {c for row in workflow.transitions for c in row.get("conditions", ())}
    assert used == workflow.required_predicates


@pytest.mark.parametrize("name", NAMES)
def test_terminal_states_have_no_outgoing_triggers(name: str) -> None:
    workflow = WORKFLOWS[name]
    assert all(e.source not in workflow.terminal for e in workflow.edges)


@pytest.mark.parametrize("name", NAMES)
def test_every_state_reachable_from_initial(name: str) -> None:
    workflow = WORKFLOWS[name]
    seen, todo = {workflow.initial}, deque([workflow.initial])
    while todo:
        state = todo.popleft()
        for edge in workflow.edges:
            if edge.source is state and edge.dest not in seen:
                seen.add(edge.dest)
                todo.append(edge.dest)
    assert seen == set(workflow.states)


@pytest.mark.parametrize("name", NAMES)
def test_states_are_str_enums_with_name_equal_value(name: str) -> None:
    workflow = WORKFLOWS[name]
    assert issubclass(workflow.states, str)
    assert all(s.name == s.value for s in workflow.states)


@pytest.mark.parametrize("name", NAMES)
def test_every_state_and_trigger_has_a_german_label(name: str) -> None:
    workflow = WORKFLOWS[name]
    assert all(workflow.state_label(s) for s in workflow.states)
    assert all(workflow.trigger_label(t) for t in workflow.triggers)
    assert workflow.title_de


def test_some_labels() -> None:
    case = WORKFLOWS["case"]
    assert case.state_label(CaseState.ready_for_review) == "Bereit für das Schnittstellengespräch"
    assert case.state_label("escalated") == "Übergeben nach § 8a SGB VIII"
    assert case.trigger_label("assign_lotse") == "Lotsin/Lotse zuweisen"
    assert WORKFLOWS["referral"].state_label("offered") == "Der Familie angeboten"
    assert ClosingReason.moved.label_de == "Familie ist verzogen"


def test_case_open_states() -> None:
    assert WORKFLOWS["case"].open_states == OPEN_STATES
    assert CaseState.closed not in OPEN_STATES


def test_description_is_read_only() -> None:
    case = WORKFLOWS["case"]
    with pytest.raises(TypeError):
        case.transitions[0]["dest"] = CaseState.closed  # type: ignore[index]
    with pytest.raises(AttributeError):
        case.name = "other"  # type: ignore[misc]


def test_workflows_imports_only_stdlib_and_transitions() -> None:
    allowed = set(sys.stdlib_module_names) | {"transitions", "workflows", "__future__"}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, f"{path.name} imports {roots}"


def test_modules_stay_small() -> None:
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name


class Tiny(str, enum.Enum):  # noqa: UP042
    """A throw-away workflow for the definition checks."""

    a = "a"
    b = "b"


def tiny(**overrides: Any) -> Workflow:
    spec: dict[str, Any] = {
        "name": "tiny",
        "title_de": "Winzig",
        "states": Tiny,
        "initial": Tiny.a,
        "terminal": {Tiny.b},
        "transitions": [{"trigger": "go", "source": Tiny.a, "dest": Tiny.b, "conditions": ["ok"]}],
        "required_predicates": frozenset({"ok"}),
        "state_labels_de": {Tiny.a: "A", Tiny.b: "B"},
        "trigger_labels_de": {"go": "Los"},
    }
    return define_workflow(**(spec | overrides))


def test_custom_state_attribute() -> None:
    workflow = tiny(state_attribute="status")

    class Row:
        status = Tiny.a

        def ok(self, event: Any) -> bool:
            return True

    row = Row()
    assert fire(workflow, row, "go") == (Tiny.a, Tiny.b)
    assert row.status is Tiny.b
    assert not hasattr(row, "state")


def _row(**extra: Any) -> dict[str, Any]:
    return {"trigger": "go", "source": Tiny.a, "dest": Tiny.b} | extra


_NO_GUARDS: dict[str, Any] = {"required_predicates": frozenset()}

BROKEN = {
    "side-effect-callback": ({"transitions": [_row(after="log")], **_NO_GUARDS}, "bad table row"),
    "dotted-condition": (
        {"transitions": [_row(conditions=["pkg.ok"])], "required_predicates": {"pkg.ok"}},
        "must be a name",
    ),
    "duplicate-row": ({"transitions": [_row(), _row()], **_NO_GUARDS}, "appears twice"),
    "terminal-outgoing": (
        {"transitions": [_row(source=Tiny.b, dest=Tiny.a)], **_NO_GUARDS},
        "terminal state b",
    ),
    "string-state": ({"transitions": [_row(source="a")], **_NO_GUARDS}, "not a Tiny"),
    "trigger-named-like-state-attribute": (
        {"transitions": [_row(trigger="state")], "trigger_labels_de": {"state": "x"}, **_NO_GUARDS},
        "clashes with the state attribute",
    ),
    "unused-predicate": ({"required_predicates": frozenset({"ok", "unused"})}, "unused"),
    "undeclared-predicate": (_NO_GUARDS, r"undeclared \['ok'\]"),
    "missing-label": ({"state_labels_de": {Tiny.a: "A"}}, "cover exactly"),
    "empty-label": ({"trigger_labels_de": {"go": ""}}, "must not be empty"),
    "foreign-initial": ({"initial": CaseState.draft}, "is not a Tiny"),
}


@pytest.mark.parametrize(("overrides", "match"), list(BROKEN.values()), ids=list(BROKEN))
def test_define_workflow_rejects_inconsistent_tables(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tiny(**overrides)


def test_define_workflow_rejects_name_not_equal_value() -> None:
    class Odd(str, enum.Enum):  # noqa: UP042
        a = "A"

    with pytest.raises(ValueError, match="value == name"):
        tiny(
            states=Odd,
            initial=Odd.a,
            terminal=set(),
            transitions=[],
            required_predicates=frozenset(),
            state_labels_de={Odd.a: "A"},
            trigger_labels_de={},
        )


def test_make_row_helper_builds_rows_in_every_state() -> None:
    for workflow in WORKFLOWS.values():
        for state in workflow.states:
            assert make_row(workflow, state).state is state
