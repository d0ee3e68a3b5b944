"""The inbox page, the digest setting, the CLI commands and the tenant's reminder settings."""
from __future__ import annotations

from datetime import timedelta

import pytest
from marshmallow import ValidationError

from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.reminders import operations as ops
from praevcase.reminders.jobs import run_sweep
from praevcase.reminders.models import Digest
from praevcase.reminders.models import Reminder
from praevcase.reminders.models import ReminderState
from praevcase.tenancy import set_scope
from praevcase.tenants.settings import effective_settings
from praevcase.transitions.models import ProtocolKind
from tests.conftest import arrange
from tests.conftest import bearer
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.transitions.conftest import CANARY_FAMILY
from tests.praevcase.transitions.conftest import build_world
from tests.praevcase.transitions.conftest import consent_for
from tests.praevcase.transitions.conftest import new_protocol


@pytest.fixture
def due(app):
    """A world whose Kita user has one due reminder (a consent ending in 10 days)."""
    with arrange(app):
        w = build_world()
        now = utcnow()
        p = new_protocol(w, ProtocolKind.u1, now, receiver=w.gs)
        consent_for(p, w.gs, w.kita_staff, now, valid_days=10)
        run_sweep(now=now)
        set_scope(db.session, w.tenant.id)
        reminder = db.session.query(Reminder).one()
    return w, reminder


def test_inbox_lists_due_reminders_and_marks_them_done(app, client, due):
    w, reminder = due
    login_as(client, app, w.kita_staff)
    page = client.get("/erinnerungen/").get_data(as_text=True)
    assert "Einwilligung läuft ab" in page and reminder.case_number in page and "fällig" in page
    assert CANARY_FAMILY not in page
    token = get_csrf(client, "/erinnerungen/")
    assert client.post(f"/erinnerungen/{reminder.id}/erledigt", data={"csrf_token": token}).status_code == 302
    assert "Keine offenen Erinnerungen" in client.get("/erinnerungen/").get_data(as_text=True)
    with app.app_context():
        set_scope(db.session, w.tenant.id)
        assert db.session.get(Reminder, reminder.id).state is ReminderState.done


def test_the_api_lists_the_inbox_and_marks_a_reminder_done_once(app, client, due):
    w, reminder = due
    headers = bearer(app, w.kita_staff)
    (item,) = client.get("/api/v1/reminders/", headers=headers).get_json()
    assert (item["id"], item["kind"], item["label"], item["case_number"], item["overdue"]) == (
        str(reminder.id), "consent_expiring", "Einwilligung läuft ab", reminder.case_number, False)
    assert CANARY_FAMILY not in str(item)
    done = client.post(f"/api/v1/reminders/{reminder.id}/done", headers=headers)
    assert done.status_code == 200 and done.get_json()["state"] == "done"
    again = client.post(f"/api/v1/reminders/{reminder.id}/done", headers=headers)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert client.get("/api/v1/reminders/", headers=headers).get_json() == []


def test_the_api_never_shows_or_changes_someone_elses_reminder(app, client, due):
    w, reminder = due
    for user in (w.gs_staff, w.other_kita_staff):
        headers = bearer(app, user)
        assert client.get("/api/v1/reminders/", headers=headers).get_json() == []
        assert client.post(f"/api/v1/reminders/{reminder.id}/done", headers=headers).status_code == 404
    assert client.get("/api/v1/reminders/").status_code == 401


def test_the_api_sets_the_digest(app, client, due):
    w, _ = due
    headers = bearer(app, w.kita_staff)
    response = client.put("/api/v1/reminders/preferences", headers=headers, json={"digest": "daily"})
    assert response.status_code == 200 and response.get_json() == {"digest": "daily"}
    assert client.put("/api/v1/reminders/preferences", headers=headers, json={"digest": "hourly"}).status_code == 422


def test_someone_elses_reminder_is_not_found(app, client, due):
    w, reminder = due
    login_as(client, app, w.gs_staff)
    assert reminder.case_number not in client.get("/erinnerungen/").get_data(as_text=True)
    token = get_csrf(client, "/erinnerungen/")
    assert client.post(f"/erinnerungen/{reminder.id}/erledigt", data={"csrf_token": token}).status_code == 404
    login_as(client, app, w.other_kita_staff)
    token = get_csrf(client, "/erinnerungen/")
    assert client.post(f"/erinnerungen/{reminder.id}/erledigt", data={"csrf_token": token}).status_code == 404


def test_overdue_reminders_are_marked(app, client, due):
    w, reminder = due
    with arrange(app):
        db.session.get(Reminder, reminder.id).due_dt = utcnow() - timedelta(days=1)
    login_as(client, app, w.kita_staff)
    assert "überfällig" in client.get("/erinnerungen/").get_data(as_text=True)


def test_user_chooses_the_daily_digest(app, client, due):
    w, _ = due
    login_as(client, app, w.kita_staff)
    token = get_csrf(client, "/erinnerungen/")
    assert client.post("/erinnerungen/einstellungen", data={"csrf_token": token, "digest": "daily"}).status_code == 302
    assert client.post("/erinnerungen/einstellungen", data={"csrf_token": token, "digest": "hourly"}).status_code == 422
    with app.app_context():
        set_scope(db.session, w.tenant.id)
        assert ops.preference_of(w.kita_staff) is Digest.daily


def test_cli_sweep_and_deliver_are_the_scheduler_jobs(app, due, tmp_path):
    w, _ = due
    from praevcase.reminders.mail import FileSink

    app.config["MAIL_TRANSPORT"] = sink = FileSink(tmp_path / "mail.jsonl")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "sweep"])
    assert result.exit_code == 0 and "created=0" in result.output  # already created by the fixture
    result = runner.invoke(args=["reminders", "deliver"])
    assert result.exit_code == 0 and "E-Mails versendet: 1" in result.output
    assert [m["to"] for m in sink.messages()] == [w.kita_staff.email]
    assert runner.invoke(args=["reminders", "deliver"]).output.strip().endswith("0")
    assert runner.invoke(args=["reminders", "sweep", "--now", "2027-01-01T08:00"]).exit_code != 0  # zone required


def test_reminder_settings_have_defaults_and_refuse_a_corridor_that_closes_before_it_opens():
    settings = effective_settings({})
    assert settings["reminders"]["u1_handover_opens_days"] == 120
    assert settings["reminders"]["consent_expiring_days"] == 30
    assert effective_settings({"reminders": {"handover_receipt_days": 7}})["reminders"]["handover_receipt_days"] == 7
    with pytest.raises(ValidationError):
        effective_settings({"reminders": {"u1_handover_opens_days": 10, "u1_handover_due_days": 20}})
