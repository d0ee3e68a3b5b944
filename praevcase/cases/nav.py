"""Navigation entry and start-page links of the case pages."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.cases.permissions import CASES_INTAKE
from praevcase.cases.permissions import CASES_VIEW
from praevcase.templating import add_nav
from praevcase.templating import add_start_link

add_nav("cases.index", "Fälle", CASES_VIEW)
add_start_link(Role.intake, "cases.new", "Neuen Fall aufnehmen", CASES_INTAKE)
add_start_link(Role.intake, "cases.index", "Fälle Ihrer Stelle", CASES_VIEW)
add_start_link(Role.coordinator, "cases.index", "Fälle bereit für das Schnittstellengespräch", CASES_VIEW)
add_start_link(Role.team_member, "cases.index", "Meine Familien und die nächsten Fälle", CASES_VIEW)
