"""Declarative description of one workflow: its states, transition table, labels and Machine.

A workflow module writes its table as plain data and calls :func:`define_workflow`, which
checks the table once at import and returns a frozen :class:`Workflow`. Everything else
(the engine, the diagrams, the app's permission registry and forms) reads that description,
so the table is the single source of truth.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from types import MappingProxyType
from typing import Any
from typing import TypeVar

from transitions import Machine

from workflows.engine import build_machine

#: Keys a table row may have. Callbacks with side effects (before/after/on_enter/prepare)
#: are deliberately not allowed: the operation writes history and reminders after fire()
#: returns, inside the database transaction, so a machine callback would be the wrong place.
#: ``unless`` is left out so that every guard reads the same way (must return True).
_ROW_KEYS = frozenset({"trigger", "source", "dest", "conditions"})

_E = TypeVar("_E", bound=enum.Enum)


@dataclass(frozen=True)
class Edge:
    """One row of a transition table, expanded to a single source state.

    For an internal transition (``"dest": None`` in the table) ``dest`` is the source
    state and ``internal`` is True: the state does not change and is not even re-assigned.
    """

    trigger: str
    source: enum.Enum
    dest: enum.Enum
    conditions: tuple[str, ...]
    internal: bool = False


# eq=False: workflows compare and hash by identity, so they can be dict keys even though
# they hold mappings.
@dataclass(frozen=True, eq=False)
class Workflow:
    """A workflow: states, the declarative transition table and its shared Machine.

    Built only by :func:`define_workflow`. ``transitions`` is the table as written in the
    workflow module; ``edges`` is the same table with one entry per source state.
    ``labels_de`` maps ``"states"`` and ``"triggers"`` to ``{name: German label}``.
    """

    name: str
    title_de: str
    states: type[enum.Enum]
    initial: enum.Enum
    terminal: frozenset[enum.Enum]
    transitions: tuple[Mapping[str, Any], ...] = field(repr=False)
    required_predicates: frozenset[str]
    machine: Machine = field(repr=False)
    triggers: tuple[str, ...]
    state_attribute: str
    labels_de: Mapping[str, Mapping[str, str]] = field(repr=False)
    edges: tuple[Edge, ...] = field(repr=False)
    _index: Mapping[tuple[str, str], Edge] = field(repr=False)

    def state(self, value: enum.Enum | str) -> enum.Enum:
        """Return the member of :attr:`states` for *value* (a member or its name).

        :raises ValueError: *value* is not a state of this workflow
        """
        if isinstance(value, enum.Enum):
            if not isinstance(value, self.states):
                raise ValueError(f"{value!r} is not a state of workflow {self.name!r}")
            return value
        try:
            return self.states[value]
        except KeyError:
            raise ValueError(f"{value!r} is not a state of workflow {self.name!r}") from None

    def edge(self, state: enum.Enum | str, trigger: str) -> Edge | None:
        """Return the table row for *trigger* from *state*, or None if there is none."""
        return self._index.get((self.state(state).name, trigger))

    @property
    def open_states(self) -> frozenset[enum.Enum]:
        """States that are not terminal."""
        return frozenset(s for s in self.states if s not in self.terminal)

    def state_label(self, state: enum.Enum | str) -> str:
        """German label of *state* for the UI."""
        return self.labels_de["states"][self.state(state).name]

    def trigger_label(self, trigger: str) -> str:
        """German label of *trigger* for the UI (a button or history entry).

        :raises KeyError: *trigger* is not a trigger of this workflow
        """
        return self.labels_de["triggers"][trigger]


def define_workflow(
    *,
    name: str,
    title_de: str,
    states: type[_E],
    initial: _E,
    terminal: Iterable[_E],
    transitions: Sequence[Mapping[str, Any]],
    required_predicates: frozenset[str],
    state_labels_de: Mapping[_E, str],
    trigger_labels_de: Mapping[str, str],
    state_attribute: str = "state",
) -> Workflow:
    """Check a transition table and build its :class:`Workflow` with one shared Machine.

    Called once per workflow module at import, so a broken table fails the import rather
    than a request.

    :raises ValueError: the table, the labels or the predicate list are inconsistent
    """
    _check_states(name, states, initial, terminal)
    edges = _expand(name, states, transitions, state_attribute)
    terminal = frozenset(terminal)
    triggers = tuple(dict.fromkeys(e.trigger for e in edges))
    _check_edges(name, edges, terminal, required_predicates)
    labels = _check_labels(name, states, triggers, state_labels_de, trigger_labels_de)
    return Workflow(
        name=name,
        title_de=title_de,
        states=states,
        initial=initial,
        terminal=terminal,
        transitions=tuple(_freeze_row(row) for row in transitions),
        required_predicates=frozenset(required_predicates),
        machine=build_machine(name, states, transitions, state_attribute),
        triggers=triggers,
        state_attribute=state_attribute,
        labels_de=labels,
        edges=edges,
        _index=MappingProxyType({(e.source.name, e.trigger): e for e in edges}),
    )


def _freeze_row(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """Read-only copy of a table row, so the description cannot drift from the machine."""
    return MappingProxyType({k: tuple(v) if isinstance(v, list) else v for k, v in row.items()})


def _check_states(
    name: str, states: type[enum.Enum], initial: enum.Enum, terminal: Iterable[enum.Enum]
) -> None:
    # name == value keeps the database column, the JSON API and transitions' own
    # name-based bookkeeping in agreement.
    for member in states:
        if member.value != member.name:
            raise ValueError(f"{name}: state {member!r} must have value == name")
    if not isinstance(initial, states):
        raise ValueError(f"{name}: initial state {initial!r} is not a {states.__name__}")
    for state in terminal:
        if not isinstance(state, states):
            raise ValueError(f"{name}: terminal state {state!r} is not a {states.__name__}")


def _expand(
    name: str,
    states: type[enum.Enum],
    rows: Sequence[Mapping[str, Any]],
    state_attribute: str,
) -> tuple[Edge, ...]:
    """Normalise table rows into one :class:`Edge` per source state, checking each row."""
    edges: list[Edge] = []
    for row in rows:
        unknown = set(row) - _ROW_KEYS
        if unknown or not {"trigger", "source", "dest"} <= set(row):
            raise ValueError(f"{name}: bad table row {dict(row)!r}")
        trigger = row["trigger"]
        if not isinstance(trigger, str) or not trigger.isidentifier():
            raise ValueError(f"{name}: trigger {trigger!r} must be an identifier")
        if trigger == state_attribute:
            raise ValueError(f"{name}: trigger {trigger!r} clashes with the state attribute")
        conditions = row.get("conditions") or []
        if isinstance(conditions, str):
            conditions = [conditions]
        for cond in conditions:
            # An identifier cannot contain a dot, so transitions never falls back to
            # importing a module named by a condition string.
            if not isinstance(cond, str) or not cond.isidentifier():
                raise ValueError(f"{name}: condition {cond!r} of {trigger!r} must be a name")
        sources = row["source"] if isinstance(row["source"], list | tuple) else [row["source"]]
        dest = row["dest"]
        for source in sources:
            if not isinstance(source, states) or not (dest is None or isinstance(dest, states)):
                raise ValueError(
                    f"{name}: {trigger!r} uses a state that is not a {states.__name__}"
                )
            edges.append(
                Edge(
                    trigger=trigger,
                    source=source,
                    dest=source if dest is None else dest,
                    conditions=tuple(conditions),
                    internal=dest is None,
                )
            )
    return tuple(edges)


def _check_edges(
    name: str, edges: tuple[Edge, ...], terminal: frozenset[enum.Enum], required: frozenset[str]
) -> None:
    seen: set[tuple[enum.Enum, str]] = set()
    for edge in edges:
        # One destination per (state, trigger): the expected matrix and the UI rely on it.
        if (edge.source, edge.trigger) in seen:
            raise ValueError(f"{name}: {edge.trigger!r} appears twice from {edge.source.name}")
        seen.add((edge.source, edge.trigger))
        if edge.source in terminal:
            raise ValueError(
                f"{name}: terminal state {edge.source.name} has outgoing {edge.trigger!r}"
            )
    used = frozenset(c for e in edges for c in e.conditions)
    if used != required:
        raise ValueError(
            f"{name}: REQUIRED_PREDICATES differ from the table's conditions: "
            f"unused {sorted(required - used)}, undeclared {sorted(used - required)}"
        )


def _check_labels(
    name: str,
    states: type[_E],
    triggers: tuple[str, ...],
    state_labels: Mapping[_E, str],
    trigger_labels: Mapping[str, str],
) -> Mapping[str, Mapping[str, str]]:
    """Return the frozen label mapping after checking that every state and trigger has one."""
    by_name = {state.name: label for state, label in state_labels.items()}
    if set(by_name) != {s.name for s in states} or set(trigger_labels) != set(triggers):
        raise ValueError(f"{name}: German labels must cover exactly the states and triggers")
    if not all(by_name.values()) or not all(trigger_labels.values()):
        raise ValueError(f"{name}: German labels must not be empty")
    return MappingProxyType(
        {
            "states": MappingProxyType({s.name: by_name[s.name] for s in states}),
            "triggers": MappingProxyType({t: trigger_labels[t] for t in triggers}),
        }
    )
