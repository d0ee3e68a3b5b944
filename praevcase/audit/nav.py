"""Navigation and start-page links of the audit log (dpo and admin)."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.audit.permissions import AUDIT_LOG
from praevcase.templating import add_nav
from praevcase.templating import add_start_link

add_nav("audit.events", "Protokoll", AUDIT_LOG)
for role in (Role.dpo, Role.admin):
    add_start_link(role, "audit.events", "Zugriffsprotokoll einsehen", AUDIT_LOG)
    add_start_link(role, "audit.verify", "Protokollkette prüfen", AUDIT_LOG)
