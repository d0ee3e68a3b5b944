"""The Lotse's workspace: "Meine Familien" with next steps and overdue items, the sealed contact log,
bringing the case back to the team and handing over; and the reminder kinds behind the due items."""
from __future__ import annotations

from datetime import date
from datetime import timedelta

import pytest
import sqlalchemy as sa

from praevcase.cases import operations as case_ops
from praevcase.cases.models import Case
from praevcase.database import utcnow
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.lotse import queries
from praevcase.lotse.models import Contact
from praevcase.lotse.models import ContactSetting
from praevcase.lotse.operations import log_contact
from praevcase.referrals import operations as referral_ops
from praevcase.reminders.operations import context_for
from praevcase.reminders.registry import KINDS
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.praevcase.cases.conftest import CANARY_FAMILY
from tests.praevcase.sessions.conftest import attached
from tests.praevcase.sessions.conftest import open_ready_case
from workflows.case import CaseState

import praevcase.lotse.reminder_kinds  # noqa: F401,E402 - registers lotse_no_contact
import praevcase.referrals.reminder_kinds  # noqa: F401,E402 - registers referral_not_started
import praevcase.sessions.reminder_kinds  # noqa: F401,E402 - registers agenda_cutoff, rereview_due


def supported(team, *, canary: bool = False) -> Case:
    case = open_ready_case(team, canary=canary)
    case_ops.fire_case(case, "put_on_agenda", actor=team.coordinator, now=utcnow())
    case_ops.fire_case(case, "assign_lotse", actor=team.coordinator, now=utcnow(), lotse=team.health)
    return case


def contact(team, case, *, days_ago: int = 0, due_in: int | None = 7, summary: str = "Hausbesuch, Kita besprochen."):
    return log_contact(case, {"contact_date": date.today() - timedelta(days=days_ago), "setting": ContactSetting.home,
                              "summary": summary, "next_step": "Anmeldung Sprachkurs" if due_in is not None else None,
                              "next_step_due": date.today() + timedelta(days=due_in) if due_in is not None else None},
                       actor=team.health, now=utcnow())


def test_my_families_lists_next_steps_and_puts_the_overdue_first(team_ctx):
    calm, late, silent = supported(team_ctx), supported(team_ctx), supported(team_ctx)
    contact(team_ctx, calm, due_in=10)
    contact(team_ctx, late, days_ago=20, due_in=-3)
    contact(team_ctx, silent, days_ago=60, due_in=None)
    rows = queries.my_families(team_ctx.health, utcnow())
    assert [r["case_id"] for r in rows][-1] == calm.id
    by_case = {r["case_id"]: r for r in rows}
    assert by_case[late.id]["next_step_overdue"] and by_case[late.id]["next_step"] == "Anmeldung Sprachkurs"
    assert by_case[silent.id]["no_contact_overdue"] and by_case[silent.id]["days_without_contact"] == 60
    assert not by_case[calm.id]["next_step_overdue"] and not by_case[calm.id]["no_contact_overdue"]
    assert queries.my_families(team_ctx.youth, utcnow()) == []


def test_only_the_lotse_logs_contacts_and_they_are_sealed(team_ctx):
    case = supported(team_ctx)
    with pytest.raises(PermissionDenied):
        log_contact(case, {"contact_date": date.today(), "setting": ContactSetting.phone, "summary": "abc"},
                    actor=team_ctx.coordinator, now=utcnow())
    row = contact(team_ctx, case, summary=f"Gespräch mit {CANARY_FAMILY}.")
    db.session.flush()
    raw = db.session.execute(sa.text("SELECT summary_ct FROM lotse_contacts WHERE id = :id"), {"id": row.id}).scalar()
    assert CANARY_FAMILY.encode() not in raw
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.text("UPDATE lotse_contacts SET next_step_due = NULL WHERE id = :id"), {"id": row.id})


def test_the_workspace_page_shows_the_family_and_the_lotse_works_from_it(app, client, team):
    with arrange(app):
        k = attached(team)
        case = supported(k, canary=True)
        referral = referral_ops.propose(case, offer=k.language_offer, actor=k.health, now=utcnow())
    login_as(client, app, team.health)
    html = client.get(f"/lotse/{case.id}").get_data(as_text=True)
    assert CANARY_FAMILY in html and "Sprachförderung vor der Einschulung" in html
    assert "Meine Familien" in client.get("/lotse/").get_data(as_text=True)
    token = get_csrf(client, f"/lotse/{case.id}")
    posted = client.post(f"/lotse/{case.id}/kontakt", data={
        "csrf_token": token, "contact_date": date.today().isoformat(), "setting": "kita",
        "summary": "In der Kita: Anmeldung besprochen.", "next_step": "Anmeldung abgeben",
        "next_step_due": (date.today() + timedelta(days=5)).isoformat()})
    assert posted.status_code == 302
    offered = client.post(f"/vermittlungen/{referral.id}/aktion", data={
        "csrf_token": token, "trigger": "offer", "version": "1", "next": "lotse"})
    assert offered.status_code == 302 and offered.location.endswith(f"/lotse/{case.id}#vermittlungen")
    page = client.get(f"/lotse/{case.id}").get_data(as_text=True)
    assert "Anmeldung abgeben" in page and "Der Familie angeboten" in page
    back = client.post(f"/lotse/{case.id}/aktion", data={"csrf_token": token, "trigger": "request_rereview",
                                                         "version": str(case.version), "reason": "Neue Lage"})
    assert back.status_code == 302
    with arrange(app):
        assert db.session.get(Case, case.id).state is CaseState.ready_for_review
    login_as(client, app, team.youth)
    assert client.get(f"/lotse/{case.id}").status_code == 404


def test_handing_over_from_the_workspace_moves_the_family_to_the_new_lotse(app, client, team):
    with arrange(app):
        case = supported(attached(team))
    login_as(client, app, team.health)
    token = get_csrf(client, f"/lotse/{case.id}")
    response = client.post(f"/lotse/{case.id}/aktion", data={
        "csrf_token": token, "trigger": "hand_over_lotse", "version": str(case.version),
        "lotse_user_id": str(team.kita_member.id)})
    assert response.status_code == 302 and response.location.endswith("/lotse/")
    with arrange(app):
        assert db.session.get(Case, case.id).lotse_user_id == team.kita_member.id
    assert client.get(f"/lotse/{case.id}").status_code == 404


def test_the_contacts_api_and_my_families_api(app, client, team):
    with arrange(app):
        case = supported(attached(team))
    headers = team.token(team.health)
    body = {"case_id": str(case.id), "contact_date": date.today().isoformat(), "setting": "phone",
            "summary": "Telefonat: Termin beim Anbieter.", "next_step": "Rückruf", "next_step_due":
            (date.today() + timedelta(days=2)).isoformat()}
    created = client.post("/api/v1/contacts/", json=body, headers=headers)
    assert created.status_code == 201 and created.json["summary"] == body["summary"]
    listed = client.get(f"/api/v1/contacts/?case_id={case.id}", headers=headers).json
    assert [c["next_step"] for c in listed] == ["Rückruf"]
    families = client.get("/api/v1/contacts/families", headers=headers).json
    assert [f["case_id"] for f in families] == [str(case.id)] and families[0]["next_step"] == "Rückruf"
    assert client.post("/api/v1/contacts/", json=body, headers=team.token(team.youth)).status_code == 404


def test_the_reminder_kinds_find_silence_waiting_referrals_and_rereview_dates(team_ctx):
    case = supported(team_ctx)
    contact(team_ctx, case, days_ago=60, due_in=None)
    referral = referral_ops.propose(case, offer=team_ctx.language_offer, actor=team_ctx.health,
                                    now=utcnow() - timedelta(days=40))
    for trigger in ("offer", "accept", "request"):
        referral_ops.fire_referral(referral, trigger, actor=team_ctx.health, now=utcnow() - timedelta(days=40))
    ctx = context_for(team_ctx.tenant, utcnow())
    silent = list(KINDS["lotse_no_contact"].due(ctx))
    assert [o.subject_id for o in silent] == [case.id] and silent[0].user_ids == (team_ctx.health.id,)
    waiting = list(KINDS["referral_not_started"].due(ctx))
    assert [o.subject_id for o in waiting] == [referral.id]
    referral_ops.fire_referral(referral, "start", actor=team_ctx.health, now=utcnow())
    reminders = [type("R", (), {"id": o.subject_id, "subject_id": o.subject_id, "occurrence": o.occurrence,
                                "recipient_id": team_ctx.health.id})() for o in waiting + silent]
    assert KINDS["referral_not_started"].still_valid(ctx, reminders[:1]) == set()
    contact(team_ctx, case)  # a new contact ends the silence
    assert KINDS["lotse_no_contact"].still_valid(ctx, reminders[1:]) == set()
    assert list(KINDS["lotse_no_contact"].due(ctx)) == []


def test_erasing_the_family_removes_contact_and_referral_notes_but_keeps_the_counts(team_ctx):
    from praevcase.privacy.erasure import erase_family
    from praevcase.privacy.models import Family

    case = supported(team_ctx)
    contact(team_ctx, case)
    referral = referral_ops.propose(case, offer=team_ctx.language_offer, actor=team_ctx.health, now=utcnow())
    referral_ops.record_notes(referral, provider_feedback="Kommt regelmäßig.", family_view="Hilft uns.",
                              actor=team_ctx.health, now=utcnow())
    db.session.flush()
    family = db.session.get(Family, case.family_id, with_for_update=True)
    erase_family(family, cause="request", requested_by=None, approved_by=None, actor=None, now=utcnow())
    left = db.session.execute(sa.text(
        "SELECT (SELECT count(*) FROM lotse_contacts WHERE case_id = :c AND summary_ct IS NULL"
        "  AND next_step_ct IS NULL),"
        " (SELECT count(*) FROM lotse_contacts WHERE case_id = :c),"
        " (SELECT count(*) FROM referrals WHERE case_id = :c AND provider_feedback_ct IS NULL"
        "  AND family_view_ct IS NULL), (SELECT count(*) FROM referrals WHERE case_id = :c)"), {"c": case.id}).one()
    assert tuple(left) == (1, 1, 1, 1)


def test_every_encrypted_table_of_the_product_is_reached_by_an_erasure(app_ctx):
    from praevcase.privacy.erasure import uncovered_tables

    assert uncovered_tables() == []


def test_the_report_milestones_are_set_once_by_the_operations(team_ctx):
    from praevcase.statemachine import TransitionHistory

    case = supported(team_ctx)
    db.session.flush()
    assigned = db.session.scalar(sa.select(TransitionHistory.occurred_dt).where(
        TransitionHistory.object_id == case.id, TransitionHistory.trigger == "assign_lotse"))
    assert case.reviewed_dt == case.first_lotse_dt == assigned
    contact(team_ctx, case, days_ago=3)
    contact(team_ctx, case, days_ago=1)
    assert case.first_contact_on == date.today() - timedelta(days=3)
    contact(team_ctx, case, days_ago=9)  # entered late: the first contact moves back
    assert case.first_contact_on == date.today() - timedelta(days=9)
    case_ops.fire_case(case, "hand_over_lotse", actor=team_ctx.coordinator, now=utcnow(), lotse=team_ctx.kita_member)
    assert case.first_lotse_dt == assigned and case.lotse_assigned_dt > assigned
