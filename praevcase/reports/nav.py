"""Navigation entry and start-page links of the reports."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.reports.permissions import REPORTS_DENOMINATORS
from praevcase.reports.permissions import REPORTS_READ
from praevcase.templating import add_nav
from praevcase.templating import add_start_link

add_nav("reports.index", "Berichte", REPORTS_READ)
for role in (Role.coordinator, Role.statistics):
    add_start_link(role, "reports.index", "Berichte und Kennzahlen (ohne Einzeldaten)", REPORTS_READ)
    add_start_link(role, "reports.sachbericht", "Halbjahres-Sachbericht je Zugang", REPORTS_READ)
for role in (Role.coordinator, Role.admin):
    add_start_link(role, "reports.denominators", "Bezugsgrößen für Erreichungsquoten", REPORTS_DENOMINATORS)
