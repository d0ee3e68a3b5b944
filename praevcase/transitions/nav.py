"""Kitas and schools find their transition protocols; admins the templates."""
from praevcase.accounts.models import Role
from praevcase.templating import add_nav
from praevcase.templating import add_start_link
from praevcase.transitions.permissions import PROTOCOLS
from praevcase.transitions.permissions import TEMPLATES

add_nav("transitions.overview", "Übergänge", PROTOCOLS)
add_start_link(Role.school_staff, "transitions.overview", "Übergangsprotokolle Ü1/Ü2 Ihrer Einrichtung", PROTOCOLS)
add_start_link(Role.admin, "transitions.templates", "Vorlagen der Übergangsprotokolle", TEMPLATES)
