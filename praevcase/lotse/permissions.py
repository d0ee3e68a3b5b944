"""Who may use the Lotse workspace and write the contact log.

| action | who (always within the case's tenant) |
|---|---|
| lotse.workspace: "Meine Familien", a family's workspace | team_member (own families), coordinator (every case in support) |
| log a contact, work the referrals, bring the case back, hand over | the case's Lotse (hand over and re-review also the coordinator: praevcase.cases.permissions) |
"""
from __future__ import annotations

from typing import Any

from praevcase.accounts.models import Role
from praevcase.cases.permissions import is_coordinator
from praevcase.cases.permissions import is_lotse
from praevcase.permissions import declare
from praevcase.permissions import grant

LOTSE_WORKSPACE = declare("lotse.workspace", "Lotsen-Arbeitsplatz: eigene Familien, Kontakte, Vermittlungen")

grant(Role.team_member, LOTSE_WORKSPACE)
grant(Role.coordinator, LOTSE_WORKSPACE)


def may_open_workspace(actor: Any, case: Any) -> bool:
    return is_lotse(actor, case) or is_coordinator(actor, case)


def may_log_contact(actor: Any, case: Any) -> bool:
    return is_lotse(actor, case)
