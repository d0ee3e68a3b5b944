"""Who may read and edit the offers catalogue ("Angebote")."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.permissions import declare
from praevcase.permissions import grant

OFFERS_VIEW = declare("offers.view", "Angebotskatalog einsehen")
OFFERS_MANAGE = declare("offers.manage", "Angebotskatalog pflegen")

for role in (Role.intake, Role.team_member, Role.coordinator, Role.admin):
    grant(role, OFFERS_VIEW)
grant(Role.admin, OFFERS_MANAGE)
