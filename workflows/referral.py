"""Lifecycle of a referral ("Vermittlung") of a family to an offer of a provider.

proposed → offered → accepted | declined; accepted → requested → (waitlisted →) started
→ completed | dropped; anything before the start can be cancelled.
"""

from __future__ import annotations

import enum
from typing import Any

from workflows.base import define_workflow


class ReferralState(str, enum.Enum):  # noqa: UP042
    """States of a referral; stored by name."""

    proposed = "proposed"  # suggested by the team, not yet discussed with the family
    offered = "offered"
    accepted = "accepted"
    declined = "declined"
    requested = "requested"  # the provider has been asked for a place
    waitlisted = "waitlisted"
    started = "started"
    completed = "completed"
    dropped = "dropped"
    cancelled = "cancelled"


_S = ReferralState

# One row per line reads as a table, which the formatter would explode.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "offer", "source": _S.proposed, "dest": _S.offered},
    {"trigger": "accept", "source": _S.offered, "dest": _S.accepted},
    {"trigger": "decline", "source": _S.offered, "dest": _S.declined},
    # A provider can only be asked once one is named on the referral.
    {"trigger": "request", "source": _S.accepted, "dest": _S.requested,
     "conditions": ["provider_named"]},
    {"trigger": "waitlist", "source": _S.requested, "dest": _S.waitlisted},
    {"trigger": "start", "source": [_S.requested, _S.waitlisted], "dest": _S.started},
    {"trigger": "complete", "source": _S.started, "dest": _S.completed},
    {"trigger": "drop", "source": _S.started, "dest": _S.dropped},
    # Once started, the referral ends as completed or dropped, never cancelled, so the
    # reports can tell offers that never began from offers that were broken off.
    {"trigger": "cancel",
     "source": [_S.proposed, _S.offered, _S.accepted, _S.requested, _S.waitlisted],
     "dest": _S.cancelled},
]
# fmt: on

REQUIRED_PREDICATES: frozenset[str] = frozenset({"provider_named"})

STATE_LABELS_DE: dict[ReferralState, str] = {
    _S.proposed: "Vorgeschlagen",
    _S.offered: "Der Familie angeboten",
    _S.accepted: "Angenommen",
    _S.declined: "Abgelehnt",
    _S.requested: "Beim Anbieter angefragt",
    _S.waitlisted: "Warteliste",
    _S.started: "Begonnen",
    _S.completed: "Abgeschlossen",
    _S.dropped: "Abgebrochen",
    _S.cancelled: "Storniert",
}

TRIGGER_LABELS_DE: dict[str, str] = {
    "offer": "Der Familie anbieten",
    "accept": "Annahme erfassen",
    "decline": "Ablehnung erfassen",
    "request": "Beim Anbieter anfragen",
    "waitlist": "Auf die Warteliste setzen",
    "start": "Beginn erfassen",
    "complete": "Abschließen",
    "drop": "Abbruch erfassen",
    "cancel": "Stornieren",
}

WORKFLOW = define_workflow(
    name="referral",
    title_de="Vermittlung",
    states=ReferralState,
    initial=_S.proposed,
    terminal={_S.declined, _S.completed, _S.dropped, _S.cancelled},
    transitions=TRANSITIONS,
    required_predicates=REQUIRED_PREDICATES,
    state_labels_de=STATE_LABELS_DE,
    trigger_labels_de=TRIGGER_LABELS_DE,
)
