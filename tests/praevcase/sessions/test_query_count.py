"""The meeting view and the agenda page need as many database queries for 40 cases as for 4."""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.sessions import agenda
from praevcase.sessions import operations as ops
from praevcase.sessions.models import Decision
from praevcase.sessions.models import Presence
from praevcase.sessions.models import SessionAttendee
from tests.conftest import arrange
from tests.conftest import login_as
from tests.praevcase.sessions.conftest import attached
from tests.praevcase.sessions.conftest import new_session
from tests.praevcase.sessions.conftest import open_ready_case


@contextmanager
def counted():
    """Count every statement sent to the database (before_cursor_execute)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def _session_with(app, team, n: int, days_ahead: int):
    """A frozen session with *n* cases, three agencies present, notes and a decided first case."""
    with arrange(app):
        k = attached(team)
        for _ in range(n):
            open_ready_case(k)
        session = new_session(k, days_ahead=days_ahead)
        agenda.build_agenda(session, actor=k.coordinator, now=utcnow())
        ops.fire_session(session, "freeze_agenda", actor=k.coordinator, now=utcnow())
        for a in db.session.scalars(sa.select(SessionAttendee).where(SessionAttendee.session_id == session.id)):
            if a.agency_id in (k.buero.id, k.gesundheitsamt.id):
                ops.set_presence(session, a, Presence.present, actor=k.coordinator, now=utcnow())
        for item in session.items:
            agenda.save_notes(session, item, "Kollegiale Beratung: Sprachförderung und Kita-Platz.",
                              actor=k.coordinator, now=utcnow())
            agenda.propose_offer(session, item, {"offer_id": k.language_offer.id}, actor=k.coordinator, now=utcnow())
        agenda.decide(session, session.items[0], {"decision": Decision.assign_lotse, "lotse_user_id": k.health.id},
                      actor=k.coordinator, now=utcnow())
    return session


def _queries(client, url: str) -> int:
    client.get(url)  # warm up: the first request of a client loads more (session, CSRF)
    with counted() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_the_meeting_view_and_agenda_need_the_same_number_of_queries_for_40_cases_as_for_4(app, client, team):
    small = _session_with(app, team, 4, days_ahead=14)
    large = _session_with(app, team, 40, days_ahead=42)
    login_as(client, app, team.coordinator)
    counts = {}
    for name, session in (("small", small), ("large", large)):
        counts[name] = (_queries(client, f"/sitzungen/{session.id}/moderation?punkt=2"),
                        _queries(client, f"/sitzungen/{session.id}"),
                        _queries(client, f"/sitzungen/{session.id}/protokoll"))
    html = client.get(f"/sitzungen/{large.id}/moderation").get_data(as_text=True)
    assert html.count('class="status') == 40
    assert counts["large"] == counts["small"], counts
