"""Lifecycle of a review session ("Schnittstellengespräch") of the prevention team.

planned → agenda_frozen → held → minutes_final; a session can be cancelled before it is
held.
"""

from __future__ import annotations

import enum
from typing import Any

from workflows.base import define_workflow


class ReviewSessionState(str, enum.Enum):  # noqa: UP042
    """States of a review session; stored by name."""

    planned = "planned"
    agenda_frozen = "agenda_frozen"  # invitations and the agenda have gone out
    held = "held"
    minutes_final = "minutes_final"
    cancelled = "cancelled"


_S = ReviewSessionState

# One row per line reads as a table, which the formatter would explode.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "freeze_agenda", "source": _S.planned, "dest": _S.agenda_frozen},
    {"trigger": "unfreeze_agenda", "source": _S.agenda_frozen, "dest": _S.planned},
    {"trigger": "hold", "source": _S.agenda_frozen, "dest": _S.held},
    # Minutes are final only when every agenda item has a decision (or a deferral),
    # because the cases' next transitions are taken from those decisions.
    {"trigger": "finalize_minutes", "source": _S.held, "dest": _S.minutes_final,
     "conditions": ["all_items_decided"]},
    {"trigger": "cancel", "source": [_S.planned, _S.agenda_frozen], "dest": _S.cancelled},
]
# fmt: on

REQUIRED_PREDICATES: frozenset[str] = frozenset({"all_items_decided"})

STATE_LABELS_DE: dict[ReviewSessionState, str] = {
    _S.planned: "Geplant",
    _S.agenda_frozen: "Tagesordnung festgelegt",
    _S.held: "Durchgeführt",
    _S.minutes_final: "Protokoll abgeschlossen",
    _S.cancelled: "Abgesagt",
}

TRIGGER_LABELS_DE: dict[str, str] = {
    "freeze_agenda": "Tagesordnung festlegen",
    "unfreeze_agenda": "Tagesordnung wieder öffnen",
    "hold": "Als durchgeführt erfassen",
    "finalize_minutes": "Protokoll abschließen",
    "cancel": "Absagen",
}

WORKFLOW = define_workflow(
    name="review_session",
    title_de="Schnittstellengespräch",
    states=ReviewSessionState,
    initial=_S.planned,
    terminal={_S.minutes_final, _S.cancelled},
    transitions=TRANSITIONS,
    required_predicates=REQUIRED_PREDICATES,
    state_labels_de=STATE_LABELS_DE,
    trigger_labels_de=TRIGGER_LABELS_DE,
)
