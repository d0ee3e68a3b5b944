"""Apply workflow triggers to plain objects and ORM rows through shared ``transitions`` machines.

This is the only module that knows ``transitions``' internals. The rules it follows
(the house style, habits 2-4):

- one module-level :class:`~transitions.Machine` per workflow, built at import with
  ``model=None`` and never mutated afterwards: no ``add_model`` (it keeps a strong
  reference to every row and decorates it with convenience methods), no
  ``add_transition`` at runtime;
- objects are never registered: :func:`fire` calls ``machine.events[trigger].trigger(obj)``,
  which reads and writes ``obj.<state_attribute>`` directly;
- guards are names of side-effect-free predicates on the object, called with the
  :class:`~transitions.core.EventData` (``send_event=True``) so they can read
  ``event.kwargs`` such as ``now`` and ``actor``;
- while a trigger runs, :func:`in_transition` is True, which lets the app's models refuse
  every other assignment to the state column.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from transitions import Machine
from transitions import MachineError
from transitions.core import EventData

if TYPE_CHECKING:
    from workflows.base import Workflow

RefusalKind = Literal["unknown_trigger", "invalid_source", "guard_failed"]

# A ContextVar rather than a module global: it is per thread and per asyncio task, so one
# request firing a trigger does not open the state column of a row in another request.
_in_transition: ContextVar[bool] = ContextVar("workflows_in_transition", default=False)


class TransitionRefused(Exception):
    """A trigger was not applied; the object's state is unchanged.

    :ivar workflow: name of the workflow, e.g. ``"case"``
    :ivar trigger: the trigger that was refused
    :ivar state: the object's state when it was refused (an Enum member)
    :ivar kind: ``"unknown_trigger"``, ``"invalid_source"`` or ``"guard_failed"``
    :ivar failed_guards: for ``"guard_failed"``, the predicates that returned False

    ``str()`` is an English message for developers and logs; the app shows its own
    German text chosen by ``kind`` (and ``failed_guards``).
    """

    def __init__(
        self,
        workflow: str,
        trigger: str,
        state: enum.Enum,
        kind: RefusalKind,
        failed_guards: tuple[str, ...] = (),
    ) -> None:
        self.workflow = workflow
        self.trigger = trigger
        self.state = state
        self.kind = kind
        self.failed_guards = failed_guards
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.workflow}: trigger {self.trigger!r} in state {self.state.name!r}"
        if self.kind == "unknown_trigger":
            return f"{where} refused: the workflow has no such trigger"
        if self.kind == "invalid_source":
            return f"{where} refused: not allowed from this state"
        guards = ", ".join(self.failed_guards) or "?"
        return f"{where} refused: guard(s) not met: {guards}"


def in_transition() -> bool:
    """Return True while :func:`fire` is applying a trigger in the current context.

    The app's ``@validates("state")`` hooks use this to refuse direct assignments.
    """
    return _in_transition.get()


@contextmanager
def _transition_context() -> Iterator[None]:
    # Private on purpose: a public way to open the state column would be a bypass of the
    # workflow. Data repairs should go through a trigger too.
    token = _in_transition.set(True)
    try:
        yield
    finally:
        _in_transition.reset(token)


def build_machine(
    name: str,
    states: type[enum.Enum],
    transitions: Sequence[Mapping[str, Any]],
    state_attribute: str = "state",
) -> Machine:
    """Build the one shared Machine of a workflow (called once, by ``define_workflow``)."""
    return Machine(
        model=None,  # no registered models: objects are passed to each trigger call
        states=states,
        transitions=[dict(row) for row in transitions],
        initial=None,  # the app's column default sets the first state, not the machine
        auto_transitions=False,  # to_<state>() would bypass the table
        send_event=True,  # guards receive EventData and read event.kwargs
        ignore_invalid_triggers=False,
        model_attribute=state_attribute,
        name=name,
    )


def fire(
    workflow: Workflow, obj: object, trigger: str, /, **kwargs: Any
) -> tuple[enum.Enum, enum.Enum]:
    """Apply *trigger* to *obj* and return ``(source, dest)``.

    *kwargs* (typically ``now`` and ``actor``) reach the guards as ``event.kwargs``. On
    success ``obj.<state_attribute>`` holds *dest*; an internal transition returns the
    same state twice and does not re-assign it.

    :raises TransitionRefused: unknown trigger, not allowed from the current state, or a
        guard returned False; the state is unchanged in every case
    :raises TypeError: *obj*'s state is not a member of ``workflow.states``
    """
    source = _current_state(workflow, obj)
    event = workflow.machine.events.get(trigger)
    if event is None:
        raise TransitionRefused(workflow.name, trigger, source, "unknown_trigger")
    # Checked here rather than by catching MachineError, so the kind does not depend on
    # the wording of transitions' messages.
    if source.name not in event.transitions:
        raise TransitionRefused(workflow.name, trigger, source, "invalid_source")
    with _transition_context():
        try:
            done = event.trigger(obj, **kwargs)
        except MachineError as exc:  # pragma: no cover - excluded by the check above
            raise TransitionRefused(workflow.name, trigger, source, "invalid_source") from exc
        if not done:
            failed = _failed_guards(workflow, obj, source, trigger, kwargs)
            raise TransitionRefused(workflow.name, trigger, source, "guard_failed", failed)
    return source, getattr(obj, workflow.state_attribute)


def allowed_triggers(workflow: Workflow, obj: object, /, **kwargs: Any) -> list[str]:
    """Triggers valid from *obj*'s state whose guards pass, in table order (for buttons).

    Pass the same *kwargs* as :func:`fire` would get (e.g. ``now=``), because guards read
    them. Guards run outside a transition here: :func:`in_transition` is False.
    """
    state = _current_state(workflow, obj)
    machine = workflow.machine
    # _can_trigger is private API of transitions 0.9.x (may_<trigger> is a partial of it).
    # It is used only here, covered by tests/workflows/test_engine.py, and transitions is
    # pinned in pyproject.toml.
    return [t for t in machine.get_triggers(state) if machine._can_trigger(obj, t, **kwargs)]


def triggers_from(workflow: Workflow, state: enum.Enum | str) -> list[str]:
    """Triggers the table allows from *state*, in table order, without evaluating guards."""
    member = workflow.state(state)
    return [e.trigger for e in workflow.edges if e.source is member]


def destination(workflow: Workflow, state: enum.Enum | str, trigger: str) -> enum.Enum | None:
    """State that *trigger* leads to from *state*, or None if the table has no such row."""
    edge = workflow.edge(state, trigger)
    return None if edge is None else edge.dest


def _current_state(workflow: Workflow, obj: object) -> enum.Enum:
    state = getattr(obj, workflow.state_attribute)
    # transitions looks states up by name only; without this check a U2 "draft" would be
    # accepted by the U1 machine and silently replaced by a U1 member.
    if not isinstance(state, workflow.states):
        raise TypeError(
            f"{type(obj).__name__}.{workflow.state_attribute} is {state!r}, "
            f"expected a {workflow.states.__name__} member"
        )
    return state


def _failed_guards(
    workflow: Workflow, obj: object, source: enum.Enum, trigger: str, kwargs: dict[str, Any]
) -> tuple[str, ...]:
    """Re-evaluate the guards of a refused trigger to name the ones that failed.

    transitions stops at the first failing guard and only reports False; guards are pure,
    so asking them again (only on this failure path) is safe.
    """
    machine = workflow.machine
    event = machine.events[trigger]
    event_data = EventData(machine.get_state(source), event, machine, obj, (), kwargs)
    failed: list[str] = []
    for transition in event.transitions[source.name]:
        event_data.transition = transition
        failed.extend(str(c.func) for c in transition.conditions if not c.check(event_data))
    return tuple(dict.fromkeys(failed))
