"""Who may read the audit log and verify its chains (metadata only, never case content)."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.permissions import declare
from praevcase.permissions import grant

AUDIT_LOG = declare("audit.log", "Zugriffsprotokoll einsehen und Kette prüfen")

# SR-17: the data-protection officer and the tenant admin audit the log; reading it is itself audited
grant(Role.dpo, AUDIT_LOG)
grant(Role.admin, AUDIT_LOG)
