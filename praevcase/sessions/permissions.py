"""Who may see and run the Schnittstellengespräche, manage the team and subscribe to the calendar.

| permission / trigger | who (always within the session's tenant) |
|---|---|
| sessions.view: sessions, agendas (names only where the consent names the viewer's agency), minutes, invitations | team_member, coordinator |
| sessions.manage: generate and plan sessions, build the agenda, run the meeting, record decisions | coordinator |
| team.manage: member agencies and their Präventionskraft | coordinator, admin |
| calendar.feed: the own secret calendar URL (the feed itself is public and checks the token) | team_member, coordinator |
| review_session: freeze_agenda, unfreeze_agenda, hold, finalize_minutes, cancel | coordinator |

Everything else is refused (deny by default, praevcase.statemachine.may_fire).
"""
from __future__ import annotations

from typing import Any

from praevcase.accounts.models import Role
from praevcase.permissions import declare
from praevcase.permissions import effective_roles
from praevcase.permissions import grant
from praevcase.statemachine import allow

SESSIONS_VIEW = declare("sessions.view", "Schnittstellengespräche, Tagesordnungen und Protokolle einsehen")
SESSIONS_MANAGE = declare("sessions.manage", "Schnittstellengespräche planen und leiten, Entscheidungen festhalten")
TEAM_MANAGE = declare("team.manage", "Präventionsteam verwalten (Stellen und Präventionskräfte)")
CALENDAR_FEED = declare("calendar.feed", "Eigenen Kalender-Abo-Link verwalten")

grant(Role.team_member, SESSIONS_VIEW, CALENDAR_FEED)
grant(Role.coordinator, SESSIONS_VIEW, SESSIONS_MANAGE, TEAM_MANAGE, CALENDAR_FEED)
grant(Role.admin, TEAM_MANAGE)


def is_chair(actor: Any, session: Any) -> bool:
    """The Präventionsbüro (coordinator role) of the session's tenant chairs it."""
    return actor.tenant_id == session.tenant_id and Role.coordinator in effective_roles(actor)


@allow("review_session", "freeze_agenda", "unfreeze_agenda", "hold", "finalize_minutes", "cancel")
def _chair(actor: Any, session: Any) -> bool:
    return is_chair(actor, session)
