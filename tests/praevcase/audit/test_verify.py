"""The chain check catches every kind of tampering, including what only the external checkpoint can show.

Tampering is done the way an attacker with database superuser rights would: raw SQL with the
append-only triggers switched off (``session_replication_role = replica``), inside the test's
rolled-back transaction.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from consent.chain import link
from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.audit.models import AuditEvent
from praevcase.audit.operations import hashed_fields
from praevcase.audit.verify import verify_app_chains
from praevcase.audit.verify import write_checkpoints
from praevcase.extensions import db
from tests.praevcase.audit.conftest import head
from tests.praevcase.audit.conftest import rows


def _superuser_sql(statement: str, **params) -> None:
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(sa.text(statement), params)
    db.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    db.session.expire_all()


def _report(tenant_id):
    report = verify_app_chains(db.session, tenant_id=tenant_id)
    assert len(report.chains) == 1
    return report, report.chains[0].result


def _renumber_from(chain, seq, delta):
    """Shift seqs >= seq by delta (in two steps: the (chain, seq) unique constraint is not deferred)."""
    _superuser_sql("UPDATE audit_events SET seq = -seq WHERE chain = :c AND seq >= :s", c=chain, s=seq)
    _superuser_sql("UPDATE audit_events SET seq = -seq + :d WHERE chain = :c AND seq < 0", c=chain, d=delta)


def _rehash_from(chain, seq):
    """What a careful attacker does after editing: recompute every hash from *seq* on, and the head."""
    events = rows(chain)
    prev = events[seq - 2].row_hash if seq > 1 else bytes(32)
    for e in events[seq - 1:]:
        new = link(prev, e.seq, hashed_fields(e))
        _superuser_sql("UPDATE audit_events SET prev_hash = :p, row_hash = :h WHERE id = :id", p=prev, h=new, id=e.id)
        prev = new
    _superuser_sql("UPDATE audit_chain_heads SET seq = :s, row_hash = :h WHERE chain = :c",
                   s=events[-1].seq, h=prev, c=chain)


def test_an_untouched_chain_is_intact_and_gets_checkpointed(chain, now, checkpoint_file):
    tenant_id, name, _ = chain
    report, result = _report(tenant_id)
    assert report.intact and result.total == result.verified == 10
    assert write_checkpoints(now) >= 1
    assert write_checkpoints(now) == 0  # heads did not move: nothing new to sign
    lines = [json.loads(x) for x in checkpoint_file.read_text().splitlines()]
    mine = [x for x in lines if x["tenant_id"] == str(tenant_id)]
    assert [(x["seq"], x["row_hash"]) for x in mine] == [(10, head(name).row_hash.hex())]
    report, result = _report(tenant_id)
    assert report.intact and report.chains[0].checkpoint_seq == 10


def test_edited_field_is_found(chain):
    tenant_id, name, _ = chain
    _superuser_sql("UPDATE audit_events SET outcome = 'denied' WHERE chain = :c AND seq = 4", c=name)
    report, result = _report(tenant_id)
    assert not report.intact
    assert (result.problem, result.broken_at, result.verified) == ("hash_mismatch", 4, 3)


def test_deleted_row_is_found(chain):
    tenant_id, name, _ = chain
    _superuser_sql("DELETE FROM audit_events WHERE chain = :c AND seq = 4", c=name)
    _, result = _report(tenant_id)
    assert (result.intact, result.problem, result.broken_at) == (False, "seq_gap", 4)


def test_deleted_row_with_renumbering_is_found(chain):
    tenant_id, name, _ = chain
    _superuser_sql("DELETE FROM audit_events WHERE chain = :c AND seq = 4", c=name)
    _renumber_from(name, 5, -1)
    _, result = _report(tenant_id)
    assert (result.intact, result.problem, result.broken_at) == (False, "link_mismatch", 4)


def test_two_swapped_rows_are_found(chain):
    tenant_id, name, _ = chain
    _superuser_sql("UPDATE audit_events SET seq = -1 WHERE chain = :c AND seq = 4", c=name)
    _superuser_sql("UPDATE audit_events SET seq = 4 WHERE chain = :c AND seq = 5", c=name)
    _superuser_sql("UPDATE audit_events SET seq = 5 WHERE chain = :c AND seq = -1", c=name)
    _, result = _report(tenant_id)
    assert (result.intact, result.problem, result.broken_at) == (False, "link_mismatch", 4)


def test_inserted_row_is_found_even_when_correctly_linked_to_its_predecessor(chain, now):
    tenant_id, name, user = chain
    before = rows(name)[3]  # seq 4
    _renumber_from(name, 5, +1)
    forged = {**hashed_fields(before), "action": "auth.login", "occurred_dt": before.occurred_dt + timedelta(1)}
    forged_hash = link(before.row_hash, 5, forged)
    db.session.execute(sa.insert(AuditEvent), [{**forged, "seq": 5, "prev_hash": before.row_hash,
                                                "row_hash": forged_hash}])
    _, result = _report(tenant_id)
    assert (result.intact, result.problem, result.broken_at) == (False, "link_mismatch", 6)


def test_cut_tail_with_head_left_behind_is_found_from_the_head(chain):
    tenant_id, name, _ = chain
    _superuser_sql("DELETE FROM audit_events WHERE chain = :c AND seq > 8", c=name)
    _, result = _report(tenant_id)
    assert (result.intact, result.problem, result.broken_at) == (False, "head_mismatch", 9)


def test_cut_tail_with_head_put_back_is_found_only_against_the_signed_checkpoint(chain, now, checkpoint_file):
    tenant_id, name, _ = chain
    write_checkpoints(now)
    eighth = rows(name)[7]
    _superuser_sql("DELETE FROM audit_events WHERE chain = :c AND seq > 8", c=name)
    _superuser_sql("UPDATE audit_chain_heads SET seq = 8, row_hash = :h WHERE chain = :c", h=eighth.row_hash, c=name)
    report, result = _report(tenant_id)
    assert (result.intact, result.problem, result.broken_at, result.verified) == (False, "tail_cut", 9, 8)
    checkpoint_file.write_text("")  # without the file outside the database, the cut is invisible
    _, result = _report(tenant_id)
    assert result.intact


def test_superuser_rehash_is_found_only_against_the_signed_checkpoint(chain, now, checkpoint_file):
    tenant_id, name, _ = chain
    write_checkpoints(now)
    _superuser_sql("UPDATE audit_events SET outcome = 'denied' WHERE chain = :c AND seq = 3", c=name)
    _rehash_from(name, 3)
    _, result = _report(tenant_id)
    assert (result.intact, result.problem, result.broken_at) == (False, "checkpoint_mismatch", 10)
    checkpoint_file.write_text("")
    assert _report(tenant_id)[1].intact


def test_forged_checkpoint_lines_do_not_count_and_are_reported(chain, now, checkpoint_file):
    tenant_id, name, _ = chain
    write_checkpoints(now)
    line = json.loads(checkpoint_file.read_text().splitlines()[-1])
    line["seq"] = 3  # pretend the chain was shorter when signed: the signature no longer matches
    with checkpoint_file.open("a") as f:
        f.write(json.dumps(line) + "\n")
    report = verify_app_chains(db.session)
    assert report.bad_checkpoint_lines == 1 and not report.intact


def test_every_tamper_kind_is_detected(chain, now, checkpoint_file, scorecard):
    """SC-05 in one place: six tamper classes on fresh chains, each found by the verifier."""
    from tests.praevcase.audit import test_verify as m

    kinds = {
        "edit": m.test_edited_field_is_found, "delete": m.test_deleted_row_is_found,
        "swap": m.test_two_swapped_rows_are_found,
        "insert": m.test_inserted_row_is_found_even_when_correctly_linked_to_its_predecessor,
        "tail_cut": m.test_cut_tail_with_head_put_back_is_found_only_against_the_signed_checkpoint,
        "rehash": m.test_superuser_rehash_is_found_only_against_the_signed_checkpoint,
    }
    detected = 0
    for fn in kinds.values():
        nested = db.session.begin_nested()
        try:
            _fresh_chain_and(fn, now, checkpoint_file)
            detected += 1
        finally:
            nested.rollback()
            db.session.expire_all()
    scorecard("SC-05", "tamper_classes_detected", f"{detected}/{len(kinds)}")
    assert detected == len(kinds)


def _fresh_chain_and(fn, now, checkpoint_file):
    from praevcase.accounts.models import Role
    from praevcase.audit.operations import record
    from tests.factories import UserFactory

    user = UserFactory(roles=[Role.dpo])
    for i in range(10):
        record(db.session, "audit.test", now=now + timedelta(seconds=i), actor=user, details={"i": i})
    db.session.flush()
    from praevcase.audit.operations import append_pending

    append_pending(db.session)
    name = db.session.scalar(sa.select(AuditEvent.chain).where(AuditEvent.tenant_id == user.tenant_id).limit(1))
    checkpoint_file.write_text("")
    args = {"chain": (user.tenant_id, name, user), "now": now, "checkpoint_file": checkpoint_file}
    import inspect

    fn(**{k: v for k, v in args.items() if k in inspect.signature(fn).parameters})


@pytest.mark.parametrize("granted, denied", [(7, 3)])
def test_every_reveal_leaves_exactly_one_event(app_ctx, now, granted, denied):
    from praevcase.accounts.models import Role
    from praevcase.privacy import operations as ops
    from praevcase.privacy.models import PersonRole
    from praevcase.privacy.vault import ConsentRequired
    from praevcase.privacy.vault import reveal
    from praevcase.tenancy import set_scope
    from praevcase.tenants.models import Tenant
    from tests.factories import AgencyFactory
    from tests.factories import TenantFactory
    from tests.factories import UserFactory

    tenant = TenantFactory()
    own, other = AgencyFactory(tenant=tenant), AgencyFactory(tenant=tenant)
    staff = UserFactory(agency=own, roles=[Role.intake])
    stranger = UserFactory(agency=other, roles=[Role.team_member])
    set_scope(db.session, tenant.id)
    tenant = db.session.get(Tenant, tenant.id)
    family = ops.create_family(tenant, holder_agency=own, sozialraum=None, actor=staff, now=now)
    child = ops.add_person(family, role=PersonRole.child, given_name="A", family_name="B", now=now)
    performed = 0
    for _ in range(granted):
        reveal(family, child, ["given_name", "family_name"], actor=staff, purpose=Purpose.team_review, now=now)
        performed += 1
    for _ in range(denied):
        with pytest.raises(ConsentRequired):
            reveal(family, child, ["given_name"], actor=stranger, purpose=Purpose.team_review, now=now)
        performed += 1
    db.session.commit()
    stored = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.tenant_id == own.tenant_id,
                                                            AuditEvent.action == "data.reveal")).all()
    assert len(stored) == performed == granted + denied
    assert sorted(e.outcome for e in stored).count("denied") == denied
    assert all(e.details["categories"] == [DataCategory.identity.value] for e in stored)
    assert verify_app_chains(db.session, tenant_id=own.tenant_id).intact


def test_cli_verify_prints_a_line_per_chain_and_exits_1_when_broken(app, chain, now):
    tenant_id, name, _ = chain
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"{name}  intakt: 10 Ereignisse" in ok.output and "alle intakt" in ok.output
    written = runner.invoke(args=["audit", "checkpoint"])
    assert written.exit_code == 0 and "Kontrollpunkt(e) geschrieben" in written.output
    with app.app_context():
        _superuser_sql("UPDATE audit_events SET action = 'x' WHERE chain = :c AND seq = 2", c=name)
        db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"{name}  GEBROCHEN bei seq 2 (hash_mismatch" in broken.output and "1 Kette(n) GEBROCHEN" in broken.output
