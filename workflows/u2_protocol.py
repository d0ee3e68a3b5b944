"""Lifecycle of a Ü2 transition protocol (Übergang Grundschule → weiterführende Schule).

draft → issued → handed_over → received. On a change of school the protocol is forwarded
again ("wandert mit"), so received is not terminal.
"""

from __future__ import annotations

import enum
from typing import Any

from workflows.base import define_workflow


class U2ProtocolState(str, enum.Enum):  # noqa: UP042
    """States of a Ü2 protocol; stored by name."""

    draft = "draft"
    issued = "issued"  # signed off with the school recommendation
    handed_over = "handed_over"
    received = "received"


_S = U2ProtocolState

# One row per line reads as a table, which the formatter would explode.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "issue", "source": _S.draft, "dest": _S.issued,
     "conditions": ["has_recommendation"]},
    {"trigger": "hand_over", "source": _S.issued, "dest": _S.handed_over,
     "conditions": ["handover_permitted"]},
    {"trigger": "confirm_receipt", "source": _S.handed_over, "dest": _S.received},
    # "Wandert mit": the new school is a new recipient, so consent is checked again.
    {"trigger": "forward", "source": _S.received, "dest": _S.handed_over,
     "conditions": ["handover_permitted"]},
]
# fmt: on

REQUIRED_PREDICATES: frozenset[str] = frozenset({"has_recommendation", "handover_permitted"})

STATE_LABELS_DE: dict[U2ProtocolState, str] = {
    _S.draft: "Entwurf",
    _S.issued: "Ausgestellt",
    _S.handed_over: "An die weiterführende Schule übergeben",
    _S.received: "Von der Schule empfangen",
}

TRIGGER_LABELS_DE: dict[str, str] = {
    "issue": "Ausstellen",
    "hand_over": "An die weiterführende Schule übergeben",
    "confirm_receipt": "Empfang bestätigen",
    "forward": "An die neue Schule weitergeben",
}

WORKFLOW = define_workflow(
    name="u2_protocol",
    title_de="Übergabeprotokoll Ü2 (Grundschule → weiterführende Schule)",
    states=U2ProtocolState,
    initial=_S.draft,
    terminal=frozenset(),
    transitions=TRANSITIONS,
    required_predicates=REQUIRED_PREDICATES,
    state_labels_de=STATE_LABELS_DE,
    trigger_labels_de=TRIGGER_LABELS_DE,
)
