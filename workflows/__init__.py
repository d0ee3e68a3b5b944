"""Pure workflow kernel of praevcase: one declarative state machine per workflow.

Imports only the standard library and ``transitions``; never Flask, SQLAlchemy,
``praevcase`` or ``consent``. The app fires triggers through :func:`fire` and records
history, reminders and audit itself after it returns.
"""

from __future__ import annotations

from workflows import case
from workflows import consent_record
from workflows import referral
from workflows import review_session
from workflows import u1_protocol
from workflows import u2_protocol
from workflows.base import Edge
from workflows.base import Workflow
from workflows.engine import TransitionRefused
from workflows.engine import allowed_triggers
from workflows.engine import destination
from workflows.engine import fire
from workflows.engine import in_transition
from workflows.engine import triggers_from

#: Every workflow by name, in the order the documentation lists them.
WORKFLOWS: dict[str, Workflow] = {
    wf.name: wf
    for wf in (
        case.WORKFLOW,
        referral.WORKFLOW,
        u1_protocol.WORKFLOW,
        u2_protocol.WORKFLOW,
        review_session.WORKFLOW,
        consent_record.WORKFLOW,
    )
}

__all__ = [
    "WORKFLOWS",
    "Edge",
    "TransitionRefused",
    "Workflow",
    "allowed_triggers",
    "destination",
    "fire",
    "in_transition",
    "triggers_from",
]
