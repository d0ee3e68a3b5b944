"""Lifecycle of a Ü1 transition protocol (Übergang Kita → Grundschule).

draft → ready → handed_over → received → follow_up_due → followed_up. A school-entry
deferral ("Zurückstellung") parks the protocol as deferred until the next school year.
"""

from __future__ import annotations

import enum
from typing import Any

from workflows.base import define_workflow


class U1ProtocolState(str, enum.Enum):  # noqa: UP042
    """States of a Ü1 protocol; stored by name."""

    draft = "draft"
    ready = "ready"  # content final, not yet passed to the school
    handed_over = "handed_over"
    received = "received"  # the Grundschule confirmed receipt
    follow_up_due = "follow_up_due"  # school has started; the follow-up talk is due
    followed_up = "followed_up"
    deferred = "deferred"  # Zurückstellung: the child starts school a year later


_S = U1ProtocolState

# One row per line reads as a table, which the formatter would explode.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    # The protocol is only final once it has been discussed with the parents.
    {"trigger": "finalize", "source": _S.draft, "dest": _S.ready,
     "conditions": ["discussed_with_parents"]},
    {"trigger": "reopen", "source": _S.ready, "dest": _S.draft},
    # handover_permitted: the parents' consent covers passing it to this school.
    {"trigger": "hand_over", "source": _S.ready, "dest": _S.handed_over,
     "conditions": ["handover_permitted"]},
    {"trigger": "confirm_receipt", "source": _S.handed_over, "dest": _S.received},
    {"trigger": "school_started", "source": _S.received, "dest": _S.follow_up_due},
    {"trigger": "record_follow_up", "source": _S.follow_up_due, "dest": _S.followed_up},
    # A deferral is decided before the handover; afterwards the school is responsible.
    {"trigger": "defer", "source": [_S.draft, _S.ready], "dest": _S.deferred},
    # Back to draft: a year later the protocol has to be reviewed with the parents again.
    {"trigger": "resume", "source": _S.deferred, "dest": _S.draft},
]
# fmt: on

REQUIRED_PREDICATES: frozenset[str] = frozenset({"discussed_with_parents", "handover_permitted"})

STATE_LABELS_DE: dict[U1ProtocolState, str] = {
    _S.draft: "Entwurf",
    _S.ready: "Fertiggestellt",
    _S.handed_over: "An die Grundschule übergeben",
    _S.received: "Von der Grundschule empfangen",
    _S.follow_up_due: "Nachgespräch fällig",
    _S.followed_up: "Nachgespräch geführt",
    _S.deferred: "Zurückgestellt",
}

TRIGGER_LABELS_DE: dict[str, str] = {
    "finalize": "Fertigstellen",
    "reopen": "Wieder bearbeiten",
    "hand_over": "An die Grundschule übergeben",
    "confirm_receipt": "Empfang bestätigen",
    "school_started": "Einschulung erfassen",
    "record_follow_up": "Nachgespräch erfassen",
    "defer": "Zurückstellung erfassen",
    "resume": "Im nächsten Schuljahr fortsetzen",
}

WORKFLOW = define_workflow(
    name="u1_protocol",
    title_de="Übergabeprotokoll Ü1 (Kita → Grundschule)",
    states=U1ProtocolState,
    initial=_S.draft,
    terminal={_S.followed_up},
    transitions=TRANSITIONS,
    required_predicates=REQUIRED_PREDICATES,
    state_labels_de=STATE_LABELS_DE,
    trigger_labels_de=TRIGGER_LABELS_DE,
)
