"""Audit-log pages: own tenant only, filters, pages of 50, reading is itself audited, "Kette prüfen"."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.audit.models import AuditEvent
from praevcase.audit.operations import record
from praevcase.extensions import db
from tests.conftest import arrange
from tests.conftest import csrf_from
from tests.conftest import login_as
from tests.factories import UserFactory


def _events(app, now, n=60):
    with arrange(app):
        dpo = UserFactory(roles=[Role.dpo])
        stranger = UserFactory(roles=[Role.admin])  # another tenant
        for i in range(n):
            record(db.session, "auth.login" if i % 2 else "admin.user.update", now=now + timedelta(seconds=i),
                   actor=dpo, outcome="ok" if i % 3 else "failed")
        record(db.session, "auth.login", now=now, actor=stranger, details={"marker": "fremder-mandant"})
    return dpo, stranger


def test_the_log_pages_through_the_own_tenant_newest_first(app, client, now):
    dpo, _ = _events(app, now)
    login_as(client, app, dpo)
    first = client.get("/protokoll/").get_data(as_text=True)
    assert first.count("<tr>") == 51  # header + 50 rows
    assert "Seite 1 von 2" in first and "fremder-mandant" not in first
    second = client.get("/protokoll/?page=2").get_data(as_text=True)
    # 60 arranged + the sign-in + the first page's own viewing event, 50 of them on page 1
    assert "Seite 2 von 2" in second and second.count("<tr>") == 1 + 12
    filtered = client.get("/protokoll/?action=auth.&outcome=failed").get_data(as_text=True)
    assert filtered.count("<code class=\"small\">auth.login</code>") == 10
    assert "<code class=\"small\">admin.user.update</code>" not in filtered
    early = client.get(f"/protokoll/?until={(now - timedelta(days=1)).date().isoformat()}").get_data(as_text=True)
    assert "Keine Einträge für diese Auswahl." in early
    assert client.get("/protokoll/?action=DROP TABLE").status_code == 200  # refused filter, shown as an error
    with arrange(app):
        views = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.log.view")
                                   .order_by(AuditEvent.id)).all()
        assert len(views) == 5 and {v.actor_user_id for v in views} == {dpo.id}
        assert views[2].details["filters"] == {"action": "auth.", "outcome": "failed"}
        assert "DROP TABLE" not in str(views[4].details)


def test_verify_page_shows_a_broken_chain(app, client, now):
    dpo, _ = _events(app, now, n=5)
    login_as(client, app, dpo)
    page = client.get("/protokoll/kette").get_data(as_text=True)
    ok = client.post("/protokoll/kette", data={"csrf_token": csrf_from(page)}).get_data(as_text=True)
    assert "Intakt." in ok and "6 / 6" in ok  # five arranged events and the sign-in
    with arrange(app):
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        db.session.execute(sa.text("UPDATE audit_events SET outcome = 'denied' WHERE tenant_id = :t AND seq = 3"),
                           {"t": dpo.tenant_id})
        db.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    broken = client.post("/protokoll/kette", data={"csrf_token": csrf_from(page)}).get_data(as_text=True)
    assert "Manipulation oder Datenverlust festgestellt." in broken and "gebrochen bei Eintrag 3" in broken
    with arrange(app):
        checks = db.session.scalars(sa.select(AuditEvent.outcome).where(AuditEvent.action == "audit.verify")
                                    .order_by(AuditEvent.id)).all()
        assert checks == ["ok", "failed"]


def test_only_dpo_and_admin_read_the_log(app, now):
    for role in (Role.intake, Role.team_member, Role.coordinator, Role.school_staff, Role.statistics):
        with arrange(app):
            user = UserFactory(roles=[role])
        client = app.test_client()
        login_as(client, app, user)
        for path in ("/protokoll/", "/protokoll/kette", "/datenschutz/einwilligungen", "/datenschutz/loeschungen"):
            assert client.get(path).status_code == 403, (role, path)
