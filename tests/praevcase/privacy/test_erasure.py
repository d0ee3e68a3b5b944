"""Erasure: four eyes, crypto-shredding that leaves nothing decryptable, tombstones that survive a restore."""
from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from flask import current_app

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.audit.models import AuditEvent
from praevcase.audit.verify import verify_app_chains
from praevcase.errors import Conflict
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.privacy import erasure
from praevcase.privacy import operations as ops
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ErasureReason
from praevcase.privacy.models import ErasureTombstone
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.vault import FamilyErased
from praevcase.privacy.vault import family_dek
from praevcase.privacy.vault import reveal
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import UserFactory
from tests.praevcase.privacy.conftest import CANARY_DIAGNOSIS
from tests.praevcase.privacy.conftest import CANARY_NAME


def _consent(world, now, **kw):
    return ops.record_consent(world.family, template=world.template, purposes={Purpose.team_review},
                              categories={DataCategory.identity}, recipient_agency_ids={world.gesundheitsamt.id},
                              signatories=[{"person_id": world.mother.id}], channel=ConsentChannel.written,
                              actor=world.intake, now=now, **kw)


def _admin(world):
    return UserFactory(agency=world.jobcenter, roles=[Role.admin])


def test_the_requester_cannot_confirm_their_own_erasure(world, now):
    req = erasure.request_erasure(world.family, reason=ErasureReason.request, note=None, actor=world.dpo, now=now)
    with pytest.raises(PermissionDenied, match="Vier-Augen-Prinzip"):
        erasure.confirm_erasure(req, actor=world.dpo, now=now)
    assert world.family.wrapped_key is not None and req.is_open
    tomb = erasure.confirm_erasure(req, actor=_admin(world), now=now)
    assert tomb.requested_by == world.dpo.id and tomb.approved_by != world.dpo.id


def test_one_open_request_per_family_and_none_after_erasure(world, now):
    req = erasure.request_erasure(world.family, reason=ErasureReason.request, note=None, actor=world.dpo, now=now)
    with pytest.raises(Conflict):
        erasure.request_erasure(world.family, reason=ErasureReason.other, note=None, actor=_admin(world), now=now)
    erasure.cancel_erasure(req, actor=world.dpo, now=now)
    with pytest.raises(Conflict):
        erasure.confirm_erasure(req, actor=_admin(world), now=now)
    req = erasure.request_erasure(world.family, reason=ErasureReason.request, note=None, actor=world.dpo, now=now)
    erasure.confirm_erasure(req, actor=_admin(world), now=now)
    with pytest.raises(Conflict):
        erasure.request_erasure(world.family, reason=ErasureReason.request, note=None, actor=world.dpo, now=now)


def test_after_erasure_nothing_of_the_family_can_be_decrypted(world, now, tombstone_file, scorecard):
    rec = _consent(world, now, child_view=CANARY_DIAGNOSIS)
    db.session.flush()
    blobs = [world.child.given_name_ct, world.mother.phone_ct, rec.child_view_ct, world.family.wrapped_key]
    family_id, case_number = world.family.id, world.family.case_number
    req = erasure.request_erasure(world.family, reason=ErasureReason.request, note="Az. 4711", actor=world.dpo,
                                  now=now)
    erasure.confirm_erasure(req, actor=_admin(world), now=now)
    db.session.commit()
    db.session.expire_all()

    family = db.session.get(Family, family_id)
    assert family.wrapped_key is None and family.kek_id is None and family.erased_dt == now
    with pytest.raises(FamilyErased):
        family_dek(family)
    rec = db.session.get(ConsentRecord, rec.id)
    with pytest.raises(FamilyErased):  # even the agency that collected the data
        reveal(family, rec, ["child_view"], actor=world.intake, purpose=Purpose.team_review, now=now)
    assert rec.child_view_ct is None and rec.evidence_ct is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.family_id == family_id)) == 0
    assert ops.possible_duplicates(world.tenant.id, family_name=CANARY_NAME, given_name="Emre",
                                   birth_date=date(2021, 3, 14)) == []
    # no stored copy of any ciphertext or of the wrapped key is left anywhere in the family's tables
    stored = db.session.execute(sa.text(
        "SELECT count(*) FROM persons p WHERE p.given_name_ct = ANY(:b) OR p.phone_ct = ANY(:b) "
        "UNION ALL SELECT count(*) FROM consent_records c WHERE c.child_view_ct = ANY(:b) "
        "UNION ALL SELECT count(*) FROM families f WHERE f.wrapped_key = ANY(:b)"), {"b": blobs}).scalars().all()
    assert stored == [0, 0, 0]
    # the tombstone: ids and dates, no personal value, in the table and in the signed file
    tomb = db.session.scalar(sa.select(ErasureTombstone).where(ErasureTombstone.family_id == family_id))
    assert (tomb.case_number, tomb.cause) == (case_number, "request")
    line = tombstone_file.read_text()
    assert json.loads(line)["family_id"] == str(family_id) and CANARY_NAME not in line and "4711" not in line
    assert db.session.scalar(sa.text("SELECT note FROM erasure_requests WHERE id = :i"), {"i": req.id}) is None
    # the audit log keeps its rows (no personal values in them), so the chain still verifies
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.erasure"))
    assert event.family_ref == family_id and event.details["rows"]["persons"] == 2
    assert verify_app_chains(db.session, tenant_id=world.tenant.id).intact
    scorecard("SC-09", "decryptable_fields", "0,blind_index_rows=0,tombstone=table+file,chain_verifies=1")


def test_erasure_hooks_of_other_features_run_with_the_family(world, now):
    seen = []

    def hook(family, at):
        seen.append((family.id, at))
        return 3

    erasure.register_erasure_hook(hook)
    try:
        erasure.erase_family(world.family, cause="request", requested_by=None, approved_by=None, actor=None, now=now)
    finally:
        erasure.ERASURE_HOOKS.remove(hook)
    assert seen == [(world.family.id, now)]
    event = db.session.info["audit_pending"][-1]
    assert event["details"]["rows"]["hook"] == 3


def test_erasing_twice_changes_nothing(world, now):
    first = erasure.erase_family(world.family, cause="retention", requested_by=None, approved_by=None, actor=None,
                                 now=now)
    pending = len(db.session.info["audit_pending"])
    again = erasure.erase_family(world.family, cause="retention", requested_by=None, approved_by=None, actor=None,
                                 now=now)
    assert again is first and len(db.session.info["audit_pending"]) == pending


def test_erasures_are_reapplied_to_a_restored_older_backup(world, now, tombstone_file, scorecard):
    family_id = world.family.id
    restore_point = db.session.begin_nested()
    erasure.erase_family(world.family, cause="request", requested_by=world.dpo.id, approved_by=None, actor=None,
                         now=now)
    restore_point.rollback()  # the database is back as before the erasure; the file outside is not
    db.session.expire_all()
    assert db.session.get(Family, family_id).wrapped_key is not None
    key = current_app.config["CHECKPOINT_KEY"]
    with tombstone_file.open("a") as f:  # a forged line must not erase anything
        f.write(json.dumps({**json.loads(tombstone_file.read_text()), "family_id": str(world.youth.id)}) + "\n")
    result = erasure.reapply_erasures(now=now, path=str(tombstone_file), key=key)
    assert (result.reapplied, result.bad_lines) == (1, 1)
    family = db.session.get(Family, family_id)
    assert family.wrapped_key is None and family.erased_dt == now
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.family_id == family_id)) == 0
    assert erasure.reapply_erasures(now=now, path=str(tombstone_file), key=key).already == 1
    scorecard("SC-18", "resurrected_after_tombstone_replay", "0")


# --- through the web -----------------------------------------------------------------------------


def _post(client, path, data=None, page="/datenschutz/loeschungen"):
    return client.post(path, data={"csrf_token": get_csrf(client, page), **(data or {})})


def test_four_eyes_through_the_pages(app, client, web_world):
    w = web_world
    with arrange(app):
        admin = _admin(w)
    login_as(client, app, w.dpo)
    page = f"/datenschutz/familien/{w.family.id}/loeschung"
    assert client.get(page).status_code == 200
    assert _post(client, page, {"reason": "request", "note": "Az. 12"}, page=page).status_code == 302
    with arrange(app):
        req = db.session.scalars(sa.select(erasure.ErasureRequest)).one()
    listing = client.get("/datenschutz/loeschungen").get_data(as_text=True)
    assert "Wartet auf Bestätigung durch eine andere Person" in listing
    refused = _post(client, f"/datenschutz/loeschungen/{req.id}/bestaetigen")
    assert refused.status_code == 403
    with arrange(app):
        assert db.session.get(Family, w.family.id).wrapped_key is not None
        denial = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.erasure.confirm"))
        assert (denial.outcome, denial.reason, denial.actor_user_id) == ("denied", "same_person", w.dpo.id)
    other = app.test_client()
    login_as(other, app, admin)
    assert _post(other, f"/datenschutz/loeschungen/{req.id}/bestaetigen").status_code == 302
    with arrange(app):
        assert db.session.get(Family, w.family.id).erased_dt is not None


def test_another_tenants_family_and_request_are_not_found(app, client, web_world, now):
    w = web_world
    with arrange(app):
        stranger = UserFactory(roles=[Role.dpo])  # a dpo of another tenant
        req = erasure.request_erasure(db.session.merge(w.family), reason=ErasureReason.request, note=None,
                                      actor=db.session.merge(w.dpo), now=now)
    login_as(client, app, stranger)
    for path in (f"/datenschutz/familien/{w.family.id}", f"/datenschutz/familien/{w.family.id}/loeschung",
                 f"/datenschutz/familien/{w.family.id}/auskunft", f"/einwilligungen/familie/{w.family.id}"):
        assert client.get(path).status_code == 404, path
    assert _post(client, f"/datenschutz/loeschungen/{req.id}/bestaetigen").status_code == 404
    assert _post(client, f"/datenschutz/loeschungen/{req.id}/zurueckziehen").status_code == 404
    with arrange(app):
        assert db.session.get(Family, w.family.id).wrapped_key is not None


def test_reapply_erasures_command(app, web_world, now, tombstone_file):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["privacy", "reapply-erasures"]).output.startswith("Erneut gelöscht: 0")
    with arrange(app):
        family = db.session.get(Family, web_world.family.id)
        erasure.erase_family(family, cause="request", requested_by=None, approved_by=None, actor=None, now=now)
        db.session.rollback()  # "restore": the erasure never reached this database
    result = runner.invoke(args=["privacy", "reapply-erasures"])
    assert result.exit_code == 0 and "Erneut gelöscht: 1" in result.output
    with arrange(app):
        assert db.session.get(Family, web_world.family.id).erased_dt is not None


def test_encrypted_tables_that_no_erasure_reaches_are_named(world, now):
    from praevcase.privacy.vault import FIELD_CATEGORIES
    from praevcase.privacy.vault import register_fields

    register_fields("tenants", {"probe": DataCategory.case_notes})  # a table without family_id
    try:
        assert "tenants" in erasure.uncovered_tables()
        assert "persons" not in erasure.uncovered_tables() and "consent_records" not in erasure.uncovered_tables()

        @erasure.register_erasure_hook(covers=("tenants",))
        def probe_hook(family, at):
            return 0

        assert "tenants" not in erasure.uncovered_tables()
        erasure.ERASURE_HOOKS.remove(probe_hook)
        erasure.ERASURE_COVERED.discard("tenants")
    finally:
        del FIELD_CATEGORIES[("tenants", "probe")]
