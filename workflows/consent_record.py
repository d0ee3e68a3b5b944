"""Lifecycle of one consent record ("Einwilligung"): active → expired | withdrawn | superseded.

Named ``consent_record`` rather than ``consent`` so that it is not mistaken for the
top-level ``consent`` package (policy and crypto), which ``workflows`` must not import.
The key in ``workflows.WORKFLOWS`` is still ``"consent"``.
"""

from __future__ import annotations

import enum
from typing import Any

from workflows.base import define_workflow


class ConsentState(str, enum.Enum):  # noqa: UP042
    """States of a consent record; stored by name."""

    active = "active"
    expired = "expired"
    withdrawn = "withdrawn"
    superseded = "superseded"  # replaced by a newer record (e.g. a wider purpose)


_S = ConsentState

# No guards: an expiry is a fact of the clock and a withdrawal must always be honoured.
# A record never comes back; a new consent is a new record.
# One row per line reads as a table, which the formatter would explode.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "expire", "source": _S.active, "dest": _S.expired},
    {"trigger": "withdraw", "source": _S.active, "dest": _S.withdrawn},
    {"trigger": "supersede", "source": _S.active, "dest": _S.superseded},
]
# fmt: on

REQUIRED_PREDICATES: frozenset[str] = frozenset()

STATE_LABELS_DE: dict[ConsentState, str] = {
    _S.active: "Wirksam",
    _S.expired: "Abgelaufen",
    _S.withdrawn: "Widerrufen",
    _S.superseded: "Ersetzt",
}

TRIGGER_LABELS_DE: dict[str, str] = {
    "expire": "Ablauf erfassen",
    "withdraw": "Widerruf erfassen",
    "supersede": "Durch neue Einwilligung ersetzen",
}

WORKFLOW = define_workflow(
    name="consent",
    title_de="Einwilligung",
    states=ConsentState,
    initial=_S.active,
    terminal={_S.expired, _S.withdrawn, _S.superseded},
    transitions=TRANSITIONS,
    required_predicates=REQUIRED_PREDICATES,
    state_labels_de=STATE_LABELS_DE,
    trigger_labels_de=TRIGGER_LABELS_DE,
)
