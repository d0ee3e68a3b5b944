"""Navigation entry and start-page links of the Lotse workspace."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.lotse.permissions import LOTSE_WORKSPACE
from praevcase.templating import add_nav
from praevcase.templating import add_start_link

add_nav("lotse.index", "Meine Familien", LOTSE_WORKSPACE)
add_start_link(Role.team_member, "lotse.index", "Meine Familien (Lotsin/Lotse): nächste Schritte", LOTSE_WORKSPACE)
