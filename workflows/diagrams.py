"""Mermaid state diagrams generated from the transition tables.

Written by hand from :attr:`Workflow.edges` rather than with transitions' GraphMachine,
because the output must be byte-for-byte stable: the README embeds :func:`all_diagrams`
between markers and a test in the app compares the two.
"""

from __future__ import annotations

from workflows import WORKFLOWS
from workflows.base import Edge
from workflows.base import Workflow

_INDENT = "    "


def mermaid(workflow: Workflow) -> str:
    """Return a Mermaid ``stateDiagram-v2`` of *workflow*, ending in a newline.

    States appear in declaration order with their German label as description; edges are
    sorted by (source, dest, trigger) in declaration order and labelled ``trigger`` or
    ``trigger [guard, ...]``. ``[*]`` points at the initial state and terminal states
    point at ``[*]``.
    """
    order = {state: i for i, state in enumerate(workflow.states)}
    lines = ["stateDiagram-v2"]
    lines += [f"{_INDENT}{s.name} : {_text(workflow.state_label(s))}" for s in workflow.states]
    lines.append(f"{_INDENT}[*] --> {workflow.initial.name}")
    edges = sorted(workflow.edges, key=lambda e: (order[e.source], order[e.dest], e.trigger))
    lines += [f"{_INDENT}{e.source.name} --> {e.dest.name} : {_edge_label(e)}" for e in edges]
    lines += [f"{_INDENT}{s.name} --> [*]" for s in workflow.states if s in workflow.terminal]
    return "\n".join(lines) + "\n"


def all_diagrams() -> str:
    """Return one Markdown section per workflow (heading and a mermaid block), in WORKFLOWS order.

    This is exactly the text the README keeps between its diagram markers.
    """
    sections = [
        f"### {wf.title_de} (`{name}`)\n\n```mermaid\n{mermaid(wf)}```\n"
        for name, wf in WORKFLOWS.items()
    ]
    return "\n".join(sections)


def _edge_label(edge: Edge) -> str:
    if not edge.conditions:
        return edge.trigger
    return f"{edge.trigger} [{', '.join(edge.conditions)}]"


def _text(label: str) -> str:
    # Mermaid ends a description at a newline and treats ';' and '#' specially; German
    # labels need neither, so replacing them keeps the output valid without an escaper.
    return label.replace("\n", " ").replace(";", ",").replace("#", "Nr.")
