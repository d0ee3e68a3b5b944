"""Who may use the case pages, and who may fire which trigger of the case workflow.

Always within the case's tenant, for active users only:

- submit, confirm_consent, refuse_consent: intake role of the agency that opened the case
- confirm intake (four-eyes, birth clinic; not a trigger): intake role of the same agency, not
  the person who opened the case
- withdraw_consent: intake of the opening agency, the coordinator or the Lotse — a withdrawal must
  be as easy to record as the consent was to give (Art. 7(3) DSGVO)
- put_on_agenda, defer, assign_lotse: coordinator
- request_rereview, close: coordinator or the case's Lotse
- hand_over_lotse: the case's Lotse, or the coordinator (the Lotse may be absent or have left)
- propose escalation (not a trigger): coordinator or the case's Lotse, with a written justification
- escalate: coordinator or the case's Lotse who did *not* write the proposal (four eyes; § 8a
  Abs. 1 SGB VIII: risk assessment "im Zusammenwirken mehrerer Fachkräfte")

Everything else is refused (deny by default, praevcase.statemachine.may_fire).
"""
from __future__ import annotations

from typing import Any

from praevcase.accounts.models import Role
from praevcase.permissions import declare
from praevcase.permissions import effective_roles
from praevcase.permissions import grant
from praevcase.statemachine import allow

CASES_VIEW = declare("cases.view", "Fälle einsehen (im Rahmen der Einwilligung)")
CASES_INTAKE = declare("cases.intake", "Fälle aufnehmen (Erstkontakt)")
CASES_ACT = declare("cases.act", "Aktionen an Fällen auslösen")

grant(Role.intake, CASES_VIEW, CASES_INTAKE, CASES_ACT)
grant(Role.team_member, CASES_VIEW, CASES_ACT)
grant(Role.coordinator, CASES_VIEW, CASES_ACT)


def _roles(actor: Any) -> frozenset[Role]:
    return effective_roles(actor)


def _same_tenant(actor: Any, case: Any) -> bool:
    return actor.tenant_id == case.tenant_id


def is_origin_intake(actor: Any, case: Any) -> bool:
    """An intake professional of the agency that opened the case."""
    return _same_tenant(actor, case) and Role.intake in _roles(actor) and actor.agency_id == case.origin_agency_id


def is_coordinator(actor: Any, case: Any) -> bool:
    return _same_tenant(actor, case) and Role.coordinator in _roles(actor)


def is_lotse(actor: Any, case: Any) -> bool:
    """The team member assigned to the case as Lotse."""
    return (_same_tenant(actor, case) and Role.team_member in _roles(actor)
            and case.lotse_user_id is not None and case.lotse_user_id == actor.id)


def may_confirm_intake(actor: Any, case: Any) -> bool:
    """Four-eyes: a second intake professional of the same agency."""
    return is_origin_intake(actor, case) and actor.id != case.opened_by_id


def may_propose_escalation(actor: Any, case: Any) -> bool:
    return is_coordinator(actor, case) or is_lotse(actor, case)


@allow("case", "submit", "confirm_consent", "refuse_consent")
def _origin_intake(actor: Any, case: Any) -> bool:
    return is_origin_intake(actor, case)


@allow("case", "withdraw_consent")
def _anyone_involved_records_withdrawal(actor: Any, case: Any) -> bool:
    return is_origin_intake(actor, case) or is_coordinator(actor, case) or is_lotse(actor, case)


@allow("case", "put_on_agenda", "defer", "assign_lotse")
def _coordinator(actor: Any, case: Any) -> bool:
    return is_coordinator(actor, case)


@allow("case", "request_rereview", "close", "hand_over_lotse")
def _coordinator_or_lotse(actor: Any, case: Any) -> bool:
    return is_coordinator(actor, case) or is_lotse(actor, case)


@allow("case", "escalate")
def _second_person_confirms_escalation(actor: Any, case: Any) -> bool:
    proposer = case.escalation_proposed_by_id
    return may_propose_escalation(actor, case) and proposer is not None and proposer != actor.id
