"""Binding of the pure workflows to ORM rows: a protected state column, one fire() path, history.

Every state change of every workflow model goes through :func:`transition`: the caller has
loaded the row ``FOR UPDATE``; the permission registered for (workflow, trigger) is checked
(deny by default); the machine fires; a history row and an audit event are written; the
version counter is bumped (the mapper's ``version_id_col`` catches stale forms).
"""
from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import validates
from sqlalchemy.sql.util import find_tables

from praevcase.audit.operations import record
from praevcase.database import IdMixin
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.errors import PermissionDenied
from praevcase.errors import StaleObject
from praevcase.extensions import db
from praevcase.tenancy import TenantScoped
from workflows import WORKFLOWS
from workflows.base import Workflow
from workflows.engine import TransitionRefused
from workflows.engine import allowed_triggers
from workflows.engine import fire
from workflows.engine import in_transition

#: (workflow name, trigger) -> predicate(actor, obj) -> bool. Missing entry: refused.
TRANSITION_RULES: dict[tuple[str, str], Callable[[Any, Any], bool]] = {}


def allow(workflow: str, *triggers: str) -> Callable[[Callable[[Any, Any], bool]], Callable[[Any, Any], bool]]:
    """Register the predicate deciding who may fire *triggers* of *workflow*."""
    known = set(WORKFLOWS[workflow].triggers)

    def decorator(predicate: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
        for trigger in triggers:
            if trigger not in known:
                raise KeyError(f"{workflow} has no trigger {trigger!r}")
            if (workflow, trigger) in TRANSITION_RULES:
                raise KeyError(f"permission for {workflow}.{trigger} registered twice")
            TRANSITION_RULES[(workflow, trigger)] = predicate
        return predicate

    return decorator


def may_fire(actor: Any, workflow: str, trigger: str, obj: Any) -> bool:
    """Deny by default: only a registered predicate that says yes allows a trigger."""
    rule = TRANSITION_RULES.get((workflow, trigger))
    return bool(rule is not None and actor is not None and actor.is_active and rule(actor, obj))


def state_column(states: type[enum.Enum], name: str, default: enum.Enum) -> Mapped[Any]:
    """A VARCHAR + CHECK state column (readable in SQL, easy to migrate)."""
    return mapped_column(
        sa.Enum(states, native_enum=False, create_constraint=True, length=32, name=name,
                validate_strings=True),
        default=default, index=True,
    )


class StatefulMixin:
    """A model whose ``state`` changes only inside workflows.engine.fire()."""

    #: Bumped on every transition; a form rendered with an older version gets 409
    version: Mapped[int] = mapped_column(default=1)

    @validates("state")
    def _protect_state(self, key: str, value: Any) -> Any:
        if getattr(self, "state", None) is not None and not in_transition():
            raise AttributeError(f"{type(self).__name__}.state changes only through a workflow transition")
        return value


class TransitionHistory(IdMixin, TenantScoped, db.Model):
    """One row per transition of any workflow: from, to, trigger, actor, time, reason."""

    __tablename__ = "transition_history"
    __table_args__ = (sa.Index("ix_transition_history_object", "workflow", "object_id", "occurred_dt"),)

    workflow: Mapped[str] = mapped_column(sa.String(30))
    object_id: Mapped[uuid.UUID] = mapped_column()
    trigger: Mapped[str] = mapped_column(sa.String(40))
    from_state: Mapped[str] = mapped_column(sa.String(32))
    to_state: Mapped[str] = mapped_column(sa.String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    occurred_dt: Mapped[datetime] = mapped_column()
    #: Free text the actor gave (no personal data by instruction in the form)
    reason: Mapped[str | None] = mapped_column(sa.Text)


def transition(workflow: Workflow, obj: Any, trigger: str, *, actor: Any, now: datetime,
               reason: str | None = None, family_ref: uuid.UUID | None = None,
               details: dict[str, Any] | None = None, check_permission: bool = True,
               expected_version: int | None = None, **kwargs: Any) -> tuple[enum.Enum, enum.Enum]:
    """Fire *trigger* on *obj* (already locked FOR UPDATE by the caller) and record it.

    :param expected_version: the version the user's form was rendered with
    :raises StaleObject: someone else changed the object since the form was rendered
    :raises PermissionDenied: the actor may not fire this trigger on this object
    :raises Conflict: the trigger is not valid now (state or guard); nothing was changed
    """
    if expected_version is not None and expected_version != obj.version:
        raise StaleObject()
    if check_permission and not may_fire(actor, workflow.name, trigger, obj):
        raise PermissionDenied()
    try:
        source, dest = fire(workflow, obj, trigger, actor=actor, now=now, **kwargs)
    except TransitionRefused as e:
        raise Conflict(refusal_message(workflow, e), code="transition_refused") from e
    _write(workflow, obj, trigger, source, dest, actor=actor, now=now, reason=reason)
    record(db.session, f"{workflow.name}.transition", now=now, actor=actor, tenant_id=obj.tenant_id,
           object_type=workflow.name,
           object_id=obj.id, family_ref=family_ref,
           details={"trigger": trigger, "from": source.value, "to": dest.value, **(details or {})})
    return source, dest


#: session.info key of the history rows of this transaction not yet written
HISTORY_KEY = "transition_history_pending"


def _write(workflow: Workflow, obj: Any, trigger: str, source: enum.Enum, dest: enum.Enum, *, actor: Any,
           now: datetime, reason: str | None) -> None:
    """Bump the version (written with the row at the next flush) and queue the history row.

    The history rows of a transaction go out together, in one multi-row INSERT, at commit — or
    earlier, right before a query of this session reads ``transition_history`` — so a transition
    costs no statement of its own beyond the row's UPDATE. A rolled-back transaction (or
    savepoint) drops its rows.
    """
    obj.version = (obj.version or 0) + 1
    session = db.session()
    session.info.setdefault(HISTORY_KEY, []).append((session.get_nested_transaction(), {
        "id": new_id(), "tenant_id": obj.tenant_id, "workflow": workflow.name, "object_id": obj.id,
        "trigger": trigger, "from_state": source.value, "to_state": dest.value,
        "actor_id": getattr(actor, "id", None), "occurred_dt": now, "reason": reason}))


def write_pending_history(session: Session) -> int:
    """Write the queued history rows of *session* (one statement); returns how many."""
    pending = session.info.pop(HISTORY_KEY, None)
    if not pending:
        return 0
    session.connection().execute(sa.insert(TransitionHistory.__table__), [row for _tx, row in pending])
    return len(pending)


def _reads_history(statement: Any) -> bool:
    return any(getattr(t, "name", None) == TransitionHistory.__tablename__
               for t in find_tables(statement, include_aliases=True, include_joins=True))


@event.listens_for(Session, "do_orm_execute")
def _history_before_read(state: ORMExecuteState) -> None:
    if state.session.info.get(HISTORY_KEY) and _reads_history(state.statement):
        write_pending_history(state.session)


@event.listens_for(Session, "before_commit")
def _history_on_commit(session: Session) -> None:
    write_pending_history(session)


@event.listens_for(Session, "after_soft_rollback")
def _history_dropped_on_rollback(session: Session, previous_transaction: Any) -> None:
    pending = session.info.get(HISTORY_KEY)
    if not pending:
        return
    if not previous_transaction.nested:
        session.info.pop(HISTORY_KEY, None)
        return
    session.info[HISTORY_KEY] = [(tx, row) for tx, row in pending if tx is not previous_transaction]


def refusal_message(workflow: Workflow, e: TransitionRefused) -> str:
    """A German sentence for a refused transition."""
    action = workflow.trigger_label(e.trigger) if e.trigger in workflow.triggers else e.trigger
    if e.kind == "guard_failed":
        return f"„{action}“ ist noch nicht möglich: Voraussetzungen fehlen."
    return f"„{action}“ ist im Zustand „{workflow.state_label(e.state)}“ nicht möglich."


def permitted_triggers(workflow: Workflow, obj: Any, *, actor: Any, now: datetime, **kwargs: Any) -> list[str]:
    """Triggers the actor may fire now (state, guards and permission): the buttons to show.

    *kwargs* reach the guards like those of :func:`transition` (e.g. a placeholder for an input
    the action's form will ask for).
    """
    return [t for t in allowed_triggers(workflow, obj, actor=actor, now=now, **kwargs)
            if may_fire(actor, workflow.name, t, obj)]
