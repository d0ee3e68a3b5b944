"""Who may read the aggregate reports and who enters the denominators of the reach rates.

The ``statistics`` role is content-blind: ``reports.read`` is the only permission it holds, and
every report shows aggregates with small cells suppressed (SR-22, § 64 Abs. 3 SGB VIII).
"""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.permissions import declare
from praevcase.permissions import grant

REPORTS_READ = declare("reports.read", "Berichte und Kennzahlen lesen (nur zusammengefasste Zahlen)")
REPORTS_DENOMINATORS = declare("reports.denominators", "Bezugsgrößen der Erreichungsquoten pflegen")

grant(Role.coordinator, REPORTS_READ, REPORTS_DENOMINATORS)
grant(Role.statistics, REPORTS_READ)
grant(Role.admin, REPORTS_DENOMINATORS)
