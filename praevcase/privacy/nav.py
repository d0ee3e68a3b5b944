"""Navigation and start-page links of the data-protection pages (dpo and admin)."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.privacy.permissions import CONSENT_LOG
from praevcase.privacy.permissions import ERASURE
from praevcase.templating import add_nav
from praevcase.templating import add_start_link

add_nav("privacy.consent_log", "Einwilligungen", CONSENT_LOG)
for role in (Role.dpo, Role.admin):
    add_start_link(role, "privacy.consent_log", "Einwilligungsprotokoll prüfen", CONSENT_LOG)
    add_start_link(role, "privacy.find_family", "Familie nach Fallnummer: Auskunft, Löschung", CONSENT_LOG)
    add_start_link(role, "privacy.erasures", "Löschanträge (Vier-Augen-Prinzip)", ERASURE)
