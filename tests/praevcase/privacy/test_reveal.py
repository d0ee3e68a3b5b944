"""reveal(): consent checked at the moment of access, every attempt audited, ciphertext bound to its row."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from consent.errors import DecryptionFailed
from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.audit.models import AuditEvent
from praevcase.extensions import db
from praevcase.privacy import operations as ops
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import RecordImmutable
from praevcase.privacy.vault import ConsentRequired
from praevcase.privacy.vault import Denied
from praevcase.privacy.vault import reveal
from tests.praevcase.privacy.conftest import CANARY_NAME

NAME = ["given_name", "family_name"]


def _consent(world, now, **kw):
    args = dict(template=world.template, purposes={Purpose.team_review, Purpose.lotse_support},
                categories={DataCategory.identity, DataCategory.contact},
                recipient_agency_ids={world.gesundheitsamt.id},
                signatories=[{"person_id": world.mother.id}], channel=ConsentChannel.written,
                actor=world.intake, now=now)
    args.update(kw)
    return ops.record_consent(world.family, **args)


def _reveals():
    return db.session.info.get("audit_pending", [])


def _count(outcome):
    return len([e for e in _reveals() if e["action"] == "data.reveal" and e["outcome"] == outcome])


def test_own_agency_reads_what_it_collected(world, now):
    values = reveal(world.family, world.child, NAME, actor=world.intake, purpose=Purpose.team_review, now=now)
    assert values == {"given_name": "Emre", "family_name": CANARY_NAME}
    assert _count("granted") == 1


def test_reveal_without_consent_is_denied_and_logged(world, now):
    with pytest.raises(ConsentRequired) as exc:
        reveal(world.family, world.child, NAME, actor=world.health, purpose=Purpose.team_review, now=now)
    assert exc.value.decision.reason.value == "no_consent"
    assert _count("denied") == 1 and _count("granted") == 0


def test_consent_naming_the_agency_opens_exactly_that_agency(world, now):
    _consent(world, now)
    assert reveal(world.family, world.child, NAME, actor=world.health, purpose=Purpose.team_review,
                  now=now)["family_name"] == CANARY_NAME
    with pytest.raises(ConsentRequired):
        reveal(world.family, world.child, NAME, actor=world.youth, purpose=Purpose.team_review, now=now)


def test_consent_covers_only_its_purposes_and_categories(world, now):
    _consent(world, now, categories={DataCategory.identity})
    with pytest.raises(ConsentRequired) as exc:
        reveal(world.family, world.mother, ["phone"], actor=world.health, purpose=Purpose.team_review, now=now)
    assert exc.value.decision.reason.value == "category_not_covered"
    with pytest.raises(ConsentRequired) as exc:
        reveal(world.family, world.child, NAME, actor=world.health, purpose=Purpose.referral, now=now)
    assert exc.value.decision.reason.value == "purpose_not_covered"


def test_withdrawal_denies_the_recipients_next_read_but_not_the_own_agency(world, now):
    rec = _consent(world, now)
    reveal(world.family, world.child, NAME, actor=world.health, purpose=Purpose.team_review, now=now)
    later = now + timedelta(minutes=5)
    ops.withdraw_consent(rec, via="phone", actor=world.intake, now=later)
    with pytest.raises(ConsentRequired) as exc:
        reveal(world.family, world.child, NAME, actor=world.health, purpose=Purpose.team_review, now=later)
    assert exc.value.decision.reason.value == "consent_withdrawn"
    assert reveal(world.family, world.child, NAME, actor=world.intake, purpose=Purpose.team_review,
                  now=later)["given_name"] == "Emre"


def test_expired_consent_denies_from_the_expiry_instant(world, now):
    _consent(world, now, valid_until=now + timedelta(days=30))
    at_expiry = now + timedelta(days=30)
    reveal(world.family, world.child, NAME, actor=world.health, purpose=Purpose.team_review,
           now=at_expiry - timedelta(seconds=1))
    with pytest.raises(ConsentRequired) as exc:
        reveal(world.family, world.child, NAME, actor=world.health, purpose=Purpose.team_review, now=at_expiry)
    assert exc.value.decision.reason.value == "consent_expired"


def test_admin_and_dpo_never_see_content_even_of_their_own_agency(world, now):
    with pytest.raises(ConsentRequired) as exc:
        reveal(world.family, world.child, NAME, actor=world.dpo, purpose=Purpose.team_review, now=now)
    assert exc.value.decision.reason.value == "content_blind_role"


def test_marking_mode_returns_denied_markers_and_logs(world, now):
    values = reveal(world.family, world.child, NAME, actor=world.youth, purpose=Purpose.team_review, now=now,
                    on_denial="mark")
    assert all(isinstance(v, Denied) for v in values.values())
    assert str(values["given_name"]) == "Einwilligung deckt Ihre Stelle nicht ab"
    assert _count("denied") == 1


def test_ciphertext_copied_to_another_row_fails_to_decrypt(world, now):
    world.mother.given_name_ct = world.child.given_name_ct
    with pytest.raises(DecryptionFailed):
        reveal(world.family, world.mother, ["given_name"], actor=world.intake, purpose=Purpose.team_review, now=now)


def test_ciphertext_copied_to_another_column_fails_to_decrypt(world, now):
    world.child.family_name_ct = world.child.given_name_ct
    with pytest.raises(DecryptionFailed):
        reveal(world.family, world.child, ["family_name"], actor=world.intake, purpose=Purpose.team_review, now=now)


def test_ciphertext_moved_to_another_family_fails_to_decrypt(world, now):
    other = ops.create_family(world.tenant, holder_agency=world.jobcenter, sozialraum=None, actor=world.intake, now=now)
    from praevcase.privacy.models import PersonRole

    stranger = ops.add_person(other, role=PersonRole.child, given_name="X", family_name="Y", now=now)
    stranger.given_name_ct = world.child.given_name_ct
    with pytest.raises(DecryptionFailed):
        reveal(other, stranger, ["given_name"], actor=world.intake, purpose=Purpose.team_review, now=now)


def test_state_column_cannot_be_assigned_directly(world, now):
    rec = _consent(world, now)
    with pytest.raises(AttributeError, match="workflow transition"):
        rec.state = "withdrawn"


def test_consent_records_are_immutable(world, now):
    rec = _consent(world, now)
    rec.purposes = ["evaluation"]
    with pytest.raises(RecordImmutable):
        db.session.flush()


def test_joint_custody_needs_both_signatures(world, now):
    from praevcase.errors import InvalidInput
    from praevcase.privacy.models import PersonRole

    father = ops.add_person(world.family, role=PersonRole.guardian, given_name="Mehmet", family_name="Z",
                            has_custody=True, now=now)
    db.session.flush()
    with pytest.raises(InvalidInput):
        _consent(world, now)
    _consent(world, now, signatories=[{"person_id": world.mother.id}, {"person_id": father.id}])


def test_case_numbers_are_pseudonymous_and_sequential(world, now):
    second = ops.create_family(world.tenant, holder_agency=world.jobcenter, sozialraum=None, actor=world.intake,
                               now=now)
    assert world.family.case_number == f"TK-{now.year}-00001"
    assert second.case_number == f"TK-{now.year}-00002"


def test_possible_duplicate_found_by_blind_index_without_plaintext(world, now):
    from datetime import date

    found = ops.possible_duplicates(world.tenant.id, family_name=CANARY_NAME.upper() + " ", given_name="emre",
                                    birth_date=date(2021, 3, 14))
    assert found == [world.family.id]
    db.session.flush()
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert stored == 0  # nothing committed yet: events are written at commit


def test_ciphertext_moved_to_another_tenant_fails_to_decrypt(world, now):
    from praevcase.privacy.models import PersonRole
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from tests.factories import AgencyFactory
    from tests.factories import TenantFactory
    from tests.factories import UserFactory

    set_scope(db.session, ALL_TENANTS)
    tenant = TenantFactory()
    agency = AgencyFactory(tenant=tenant)
    staff = UserFactory(agency=agency, roles=list(world.intake.roles))
    set_scope(db.session, tenant.id)
    other = ops.create_family(tenant, holder_agency=agency, sozialraum=None, actor=staff, now=now)
    stranger = ops.add_person(other, role=PersonRole.child, given_name="X", family_name="Y", now=now)
    stranger.given_name_ct = world.child.given_name_ct
    with pytest.raises(DecryptionFailed):
        reveal(other, stranger, ["given_name"], actor=staff, purpose=Purpose.team_review, now=now)


def _no_granted_reveal():
    return _count("granted") == 0


def test_wrong_keyring_fails_closed(world, now, app_ctx):
    from consent.crypto import Keyring
    from praevcase.privacy.vault import forget_keys

    forget_keys()
    app_ctx.config["KEYRING"] = Keyring.generate()  # same id "k1", other material: a wrong key, not a missing one
    with pytest.raises(DecryptionFailed):
        reveal(world.family, world.child, NAME, actor=world.intake, purpose=Purpose.team_review, now=now)
    assert _no_granted_reveal()


def test_missing_key_fails_closed(world, now, app_ctx):
    from consent.crypto import Keyring
    from consent.errors import UnknownKey
    from praevcase.privacy.vault import forget_keys

    forget_keys()
    app_ctx.config["KEYRING"] = Keyring.generate("k9")
    with pytest.raises(UnknownKey):
        reveal(world.family, world.child, NAME, actor=world.intake, purpose=Purpose.team_review, now=now)
    assert _no_granted_reveal()


def test_tampered_wrapped_key_fails_closed(world, now):
    from praevcase.privacy.vault import forget_keys

    forget_keys()
    blob = bytearray(world.family.wrapped_key)
    blob[-1] ^= 1
    world.family.wrapped_key = bytes(blob)
    with pytest.raises(DecryptionFailed):
        reveal(world.family, world.child, NAME, actor=world.intake, purpose=Purpose.team_review, now=now)
    assert _no_granted_reveal()


def test_wrapped_key_copied_to_another_family_fails_closed(world, now):
    from praevcase.privacy.vault import forget_keys

    other = ops.create_family(world.tenant, holder_agency=world.jobcenter, sozialraum=None, actor=world.intake,
                              now=now)
    from praevcase.privacy.models import PersonRole

    stranger = ops.add_person(other, role=PersonRole.child, given_name="X", family_name="Y", now=now)
    forget_keys()
    other.wrapped_key = world.family.wrapped_key
    with pytest.raises(DecryptionFailed):
        reveal(other, stranger, ["given_name"], actor=world.intake, purpose=Purpose.team_review, now=now)


def test_reveal_after_erasure_is_impossible_and_logged(world, now):
    from praevcase.privacy.erasure import erase_family
    from praevcase.privacy.vault import FamilyErased

    rec = _consent(world, now, child_view="mag Fußball")
    erase_family(world.family, cause="request", requested_by=None, approved_by=None, actor=None, now=now)
    with pytest.raises(FamilyErased):
        reveal(world.family, rec, ["child_view"], actor=world.intake, purpose=Purpose.team_review, now=now)
    denied = [e for e in _reveals() if e["action"] == "data.reveal" and e["outcome"] == "denied"]
    assert denied[-1]["reason"] == "erased"
