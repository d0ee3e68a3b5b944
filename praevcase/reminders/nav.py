"""Everyone has an inbox."""
from praevcase.accounts.models import Role
from praevcase.permissions import AUTHENTICATED
from praevcase.templating import add_nav
from praevcase.templating import add_start_link

add_nav("reminders.inbox", "Erinnerungen", AUTHENTICATED)
for _role in (Role.school_staff, Role.coordinator, Role.team_member, Role.intake):
    add_start_link(_role, "reminders.inbox", "Meine Erinnerungen (fällig und überfällig)", AUTHENTICATED)
