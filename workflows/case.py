"""Lifecycle of a prevention case ("Fall").

draft → consent_pending → ready_for_review → on_agenda → in_support → closed, with a
deferral back from the agenda, a re-review from support, closing on refused or withdrawn
consent, and escalation to the Jugendamt under § 8a SGB VIII from any open state.
"""

from __future__ import annotations

import enum
from typing import Any

from workflows.base import define_workflow


class CaseState(str, enum.Enum):  # noqa: UP042
    """States of a case; stored by name in the ``cases.state`` column."""

    draft = "draft"
    consent_pending = "consent_pending"
    ready_for_review = "ready_for_review"  # waits for the next Schnittstellengespräch
    on_agenda = "on_agenda"
    in_support = "in_support"  # a Lotsin/Lotse accompanies the family
    closed = "closed"
    escalated = "escalated"


class ClosingReason(str, enum.Enum):  # noqa: UP042
    """Why a case was closed; recorded by the app alongside the ``close`` trigger."""

    goals_met = "goals_met"
    handed_to_regular_system = "handed_to_regular_system"
    family_declined = "family_declined"
    moved = "moved"
    consent_withdrawn = "consent_withdrawn"
    other = "other"

    @property
    def label_de(self) -> str:
        """German label for forms and reports."""
        return CLOSING_REASON_LABELS_DE[self]


CLOSING_REASON_LABELS_DE: dict[ClosingReason, str] = {
    ClosingReason.goals_met: "Ziele erreicht",
    ClosingReason.handed_to_regular_system: "An das Regelsystem übergeben",
    ClosingReason.family_declined: "Familie hat abgelehnt",
    ClosingReason.moved: "Familie ist verzogen",
    ClosingReason.consent_withdrawn: "Einwilligung widerrufen",
    ClosingReason.other: "Sonstiges",
}

#: Legal basis the app records with an ``escalate`` transition: the case leaves the
#: consent-based prevention path and is handed to the Jugendamt.
ESCALATION_LEGAL_BASIS = "§ 8a SGB VIII"

_S = CaseState

_OPEN = [_S.draft, _S.consent_pending, _S.ready_for_review, _S.on_agenda, _S.in_support]
#: States in which the case is still being worked on (everything but closed/escalated).
OPEN_STATES: frozenset[CaseState] = frozenset(_OPEN)

# One row per line reads as a table, which the formatter would explode.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "submit", "source": _S.draft, "dest": _S.consent_pending},
    # intake_confirmed: the four-eyes approval is done where the intake channel needs it.
    {"trigger": "confirm_consent", "source": _S.consent_pending, "dest": _S.ready_for_review,
     "conditions": ["has_team_consent", "intake_confirmed"]},
    {"trigger": "refuse_consent", "source": _S.consent_pending, "dest": _S.closed},
    # The team consent is checked again at every step that shares data with the team,
    # because it may have expired or been narrowed since the last step.
    {"trigger": "put_on_agenda", "source": _S.ready_for_review, "dest": _S.on_agenda,
     "conditions": ["has_team_consent"]},
    {"trigger": "defer", "source": _S.on_agenda, "dest": _S.ready_for_review},
    {"trigger": "assign_lotse", "source": _S.on_agenda, "dest": _S.in_support,
     "conditions": ["has_team_consent", "has_lotse"]},
    {"trigger": "request_rereview", "source": _S.in_support, "dest": _S.ready_for_review,
     "conditions": ["has_team_consent"]},
    # Internal transition (dest None): the case stays in_support; the app records the
    # change of Lotse in the history like any other trigger.
    {"trigger": "hand_over_lotse", "source": _S.in_support, "dest": None,
     "conditions": ["has_lotse"]},
    {"trigger": "close", "source": [_S.ready_for_review, _S.on_agenda, _S.in_support],
     "dest": _S.closed, "conditions": ["has_closing_reason"]},
    # Withdrawal needs no guard: it must always be possible to honour it (Art. 7(3) GDPR).
    {"trigger": "withdraw_consent", "source": list(_OPEN), "dest": _S.closed},
    # Not guarded by consent: § 8a SGB VIII applies regardless of it. The justification
    # guard makes the team write down the concrete indications first.
    {"trigger": "escalate", "source": list(_OPEN), "dest": _S.escalated,
     "conditions": ["has_escalation_justification"]},
]
# fmt: on

REQUIRED_PREDICATES: frozenset[str] = frozenset(
    {
        "has_team_consent",
        "intake_confirmed",
        "has_lotse",
        "has_closing_reason",
        "has_escalation_justification",
    }
)

STATE_LABELS_DE: dict[CaseState, str] = {
    _S.draft: "Entwurf",
    _S.consent_pending: "Einwilligung ausstehend",
    _S.ready_for_review: "Bereit für das Schnittstellengespräch",
    _S.on_agenda: "Auf der Tagesordnung",
    _S.in_support: "In Begleitung",
    _S.closed: "Abgeschlossen",
    _S.escalated: "Übergeben nach § 8a SGB VIII",
}

TRIGGER_LABELS_DE: dict[str, str] = {
    "submit": "Einreichen und Einwilligung einholen",
    "confirm_consent": "Einwilligung bestätigen",
    "refuse_consent": "Ablehnung der Einwilligung erfassen",
    "put_on_agenda": "Auf die Tagesordnung setzen",
    "defer": "Vertagen",
    "assign_lotse": "Lotsin/Lotse zuweisen",
    "request_rereview": "Erneut im Schnittstellengespräch beraten",
    "hand_over_lotse": "Lotsin/Lotse wechseln",
    "close": "Abschließen",
    "withdraw_consent": "Widerruf der Einwilligung erfassen",
    "escalate": "An das Jugendamt übergeben (§ 8a SGB VIII)",
}

WORKFLOW = define_workflow(
    name="case",
    title_de="Fall",
    states=CaseState,
    initial=_S.draft,
    terminal={_S.closed, _S.escalated},
    transitions=TRANSITIONS,
    required_predicates=REQUIRED_PREDICATES,
    state_labels_de=STATE_LABELS_DE,
    trigger_labels_de=TRIGGER_LABELS_DE,
)
