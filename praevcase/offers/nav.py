"""Navigation entry and start-page links of the offers catalogue."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.offers.permissions import OFFERS_MANAGE
from praevcase.offers.permissions import OFFERS_VIEW
from praevcase.templating import add_nav
from praevcase.templating import add_start_link

add_nav("offers.index", "Angebote", OFFERS_VIEW)
add_start_link(Role.admin, "offers.index", "Angebotskatalog pflegen", OFFERS_MANAGE)
add_start_link(Role.team_member, "offers.index", "Angebotskatalog", OFFERS_VIEW)
