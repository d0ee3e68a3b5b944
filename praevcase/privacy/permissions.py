"""Permissions of the data-protection core and who may fire consent transitions."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.audit.permissions import AUDIT_LOG
from praevcase.permissions import declare
from praevcase.permissions import grant
from praevcase.statemachine import allow

CONSENT_RECORD = declare("consent.record", "Einwilligungen erfassen")
CONSENT_WITHDRAW = declare("consent.withdraw", "Widerruf einer Einwilligung erfassen")
CONSENT_LOG = declare("consent.log", "Einwilligungsprotokoll einsehen (nur Metadaten)")
CONSENT_READ = declare("consent.read", "Einwilligungen einer beteiligten Familie einsehen (nur Metadaten)")
SUBJECT_ACCESS = declare("privacy.subject_access", "Auskunft nach Art. 15 DSGVO erstellen")
ERASURE = declare("privacy.erasure", "Löschung beantragen und bestätigen (Vier-Augen-Prinzip)")

for role in (Role.intake, Role.team_member, Role.coordinator):
    grant(role, CONSENT_RECORD, CONSENT_WITHDRAW, CONSENT_READ)
grant(Role.dpo, CONSENT_WITHDRAW, CONSENT_READ, CONSENT_LOG, SUBJECT_ACCESS, ERASURE)
grant(Role.admin, CONSENT_READ, CONSENT_LOG, ERASURE)

__all__ = ["AUDIT_LOG", "CONSENT_LOG", "CONSENT_READ", "CONSENT_RECORD", "CONSENT_WITHDRAW", "ERASURE",
           "SUBJECT_ACCESS"]


def _staff_of_tenant(actor, rec) -> bool:
    return actor.tenant_id == rec.tenant_id


@allow("consent", "withdraw")
def _may_record_withdrawal(actor, rec) -> bool:
    # a withdrawal may come through any participating agency: as easy as giving (Art. 7(3) DSGVO)
    roles = {Role.intake, Role.team_member, Role.coordinator, Role.dpo}
    return _staff_of_tenant(actor, rec) and bool(actor.roles & roles)


@allow("consent", "supersede")
def _may_supersede(actor, rec) -> bool:
    return _staff_of_tenant(actor, rec) and bool(actor.roles & {Role.intake, Role.team_member, Role.coordinator})


@allow("consent", "expire")
def _only_the_system_expires(actor, rec) -> bool:
    return False  # the expiry sweep fires with check_permission=False; no person can
