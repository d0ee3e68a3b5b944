"""Who may see referrals and fire which trigger of the referral workflow.

| trigger / action | who (always within the case's tenant) |
|---|---|
| propose (not a trigger) | the coordinator (in a session) or the case's Lotse |
| offer, accept, decline, request, cancel | the case's Lotse or the coordinator |
| waitlist, start, complete, drop (the provider's side) | the case's Lotse, on the provider's feedback |

Everything else is refused (deny by default, praevcase.statemachine.may_fire).
"""
from __future__ import annotations

from typing import Any

from praevcase.accounts.models import Role
from praevcase.cases.permissions import is_coordinator
from praevcase.cases.permissions import is_lotse
from praevcase.permissions import declare
from praevcase.permissions import grant
from praevcase.statemachine import allow

REFERRALS_VIEW = declare("referrals.view", "Vermittlungen einsehen")
REFERRALS_ACT = declare("referrals.act", "Vermittlungen vorschlagen und fortschreiben")

for role in (Role.team_member, Role.coordinator):
    grant(role, REFERRALS_VIEW, REFERRALS_ACT)


def may_propose(actor: Any, case: Any) -> bool:
    return is_coordinator(actor, case) or is_lotse(actor, case)


@allow("referral", "offer", "accept", "decline", "request", "cancel")
def _lotse_or_coordinator(actor: Any, referral: Any) -> bool:
    return is_lotse(actor, referral.case) or is_coordinator(actor, referral.case)


@allow("referral", "waitlist", "start", "complete", "drop")
def _lotse_on_provider_feedback(actor: Any, referral: Any) -> bool:
    return is_lotse(actor, referral.case)
