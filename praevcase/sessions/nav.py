"""Navigation entry and start-page links of the Schnittstellengespräche."""
from __future__ import annotations

from praevcase.accounts.models import Role
from praevcase.sessions.permissions import CALENDAR_FEED
from praevcase.sessions.permissions import SESSIONS_MANAGE
from praevcase.sessions.permissions import SESSIONS_VIEW
from praevcase.sessions.permissions import TEAM_MANAGE
from praevcase.templating import add_nav
from praevcase.templating import add_start_link

add_nav("sessions.index", "Schnittstellengespräche", SESSIONS_VIEW)
add_start_link(Role.coordinator, "sessions.index", "Schnittstellengespräche planen und leiten", SESSIONS_MANAGE)
add_start_link(Role.coordinator, "sessions.team", "Präventionsteam: Stellen und Präventionskräfte", TEAM_MANAGE)
add_start_link(Role.team_member, "sessions.index", "Schnittstellengespräche: Tagesordnung und Protokolle",
               SESSIONS_VIEW)
add_start_link(Role.team_member, "sessions.feed_settings", "Kalender abonnieren", CALENDAR_FEED)
add_start_link(Role.admin, "sessions.team", "Präventionsteam verwalten", TEAM_MANAGE)
