"""The generated Mermaid diagrams: deterministic and complete."""

from __future__ import annotations

import pytest

from workflows import WORKFLOWS
from workflows.diagrams import all_diagrams
from workflows.diagrams import mermaid

NAMES = sorted(WORKFLOWS)


@pytest.mark.parametrize("name", NAMES)
def test_diagram_is_deterministic(name: str) -> None:
    assert mermaid(WORKFLOWS[name]) == mermaid(WORKFLOWS[name])


@pytest.mark.parametrize("name", NAMES)
def test_diagram_contains_every_state_and_edge(name: str) -> None:
    workflow = WORKFLOWS[name]
    text = mermaid(workflow)
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert f"    [*] --> {workflow.initial.name}" in lines
    for state in workflow.states:
        assert f"    {state.name} : {workflow.state_label(state)}" in lines
    for state in workflow.terminal:
        assert f"    {state.name} --> [*]" in lines
    edge_lines = [line for line in lines if " --> " in line and "[*]" not in line]
    assert len(edge_lines) == len(workflow.edges)


def test_guards_are_shown_in_brackets() -> None:
    text = mermaid(WORKFLOWS["case"])
    assert (
        "    consent_pending --> ready_for_review : "
        "confirm_consent [has_team_consent, intake_confirmed]"
    ) in text.splitlines()
    assert "    draft --> consent_pending : submit" in text.splitlines()


def test_workflow_without_terminal_state_has_no_end_marker() -> None:
    assert "--> [*]" not in mermaid(WORKFLOWS["u2_protocol"])


def test_all_diagrams_has_one_section_per_workflow_in_order() -> None:
    text = all_diagrams()
    assert text == all_diagrams()
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert [h.rsplit("(`", 1)[1].rstrip("`)") for h in headings] == list(WORKFLOWS)
    assert text.count("```mermaid\n") == len(WORKFLOWS)
    assert text.endswith("```\n")
    for workflow in WORKFLOWS.values():
        assert mermaid(workflow) in text
