"""Use cases of the data-protection core: families, persons, consents (flush, never commit)."""
from __future__ import annotations

import hashlib
import uuid
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consent import crypto
from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.audit.operations import record
from praevcase.database import new_id
from praevcase.errors import InvalidInput
from praevcase.extensions import db
from praevcase.keys import keyring
from praevcase.privacy.models import CaseNumberCounter
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import forget_grants
from praevcase.privacy.vault import new_family_key
from praevcase.privacy.vault import seal
from praevcase.statemachine import transition
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from workflows import WORKFLOWS

CONSENT = WORKFLOWS["consent"]


def next_case_number(tenant: Tenant, year: int) -> str:
    """Draw the next pseudonymous case number of *tenant* for *year* (row-locked counter)."""
    table = CaseNumberCounter.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(table).values(tenant_id=tenant.id, year=year, value=0).on_conflict_do_nothing())
    value = db.session.execute(
        sa.update(table).where(table.c.tenant_id == tenant.id, table.c.year == year)
        .values(value=table.c.value + 1).returning(table.c.value)
    ).scalar_one()
    return f"{tenant.case_prefix}-{year}-{value:05d}"


def create_family(tenant: Tenant, *, holder_agency: Agency, sozialraum: str | None, actor: Any,
                  now: datetime) -> Family:
    """A new family with its own data key and a fresh pseudonymous case number."""
    family_id = new_id()
    wrapped, kek_id = new_family_key(tenant.id, family_id)
    family = Family(id=family_id, tenant_id=tenant.id, case_number=next_case_number(tenant, now.year),
                    sozialraum=sozialraum, holder_agency_id=holder_agency.id, wrapped_key=wrapped, kek_id=kek_id,
                    created_by_id=getattr(actor, "id", None), created_dt=now)
    db.session.add(family)
    db.session.flush()
    record(db.session, "family.create", now=now, actor=actor, object_type="family", object_id=family.id,
           family_ref=family.id)
    return family


def match_index(tenant_id: uuid.UUID, family_name: str, given_name: str, birth_date: date) -> str:
    """Blind index for finding a possible duplicate without plaintext."""
    return crypto.family_match_index(keyring(), tenant_id=str(tenant_id), last_name=family_name,
                                     first_name=given_name, birth_date=birth_date)


def add_person(family: Family, *, role: PersonRole, given_name: str, family_name: str,
               birth_date: date | None = None, address: str | None = None, phone: str | None = None,
               languages: str | None = None, has_custody: bool = False, now: datetime) -> Person:
    """Add a child or guardian; every personal value is sealed before it reaches the session."""
    person = Person(id=new_id(), tenant_id=family.tenant_id, family_id=family.id, role=role,
                    has_custody=has_custody if role is PersonRole.guardian else False,
                    birth_year=birth_date.year if (birth_date and role is PersonRole.child) else None,
                    created_dt=now)
    values = {"given_name": given_name, "family_name": family_name,
              "birth_date": birth_date.isoformat() if birth_date else None,
              "address": address, "phone": phone, "languages": languages}
    for column, value in values.items():
        seal(family, person, column, value)
    if birth_date is not None:
        person.match_index = match_index(family.tenant_id, family_name, given_name, birth_date)
    db.session.add(person)
    return person


def possible_duplicates(tenant_id: uuid.UUID, *, family_name: str, given_name: str, birth_date: date,
                        exclude_family: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Families with a person of the same blind index: offered as "possible duplicate", never shown."""
    index = match_index(tenant_id, family_name, given_name, birth_date)
    q = sa.select(Person.family_id).where(Person.match_index == index).distinct()
    if exclude_family is not None:
        q = q.where(Person.family_id != exclude_family)
    return list(db.session.scalars(q))


# --- consent templates and records ------------------------------------------------------------


def template_hash(title: str, body: str, plain_body: str, purpose_texts: dict[str, str]) -> str:
    payload = "\x1f".join([title, body, plain_body] + [f"{k}={purpose_texts[k]}" for k in sorted(purpose_texts)])
    return hashlib.sha256(payload.encode()).hexdigest()


def create_template(tenant: Tenant, *, key: str, version: int, language: str, title: str, body: str,
                    plain_body: str, purpose_texts: dict[str, str], actor: Any, now: datetime) -> ConsentTemplate:
    """A new consent text version (texts are never edited; a new version is created)."""
    unknown = set(purpose_texts) - {p.value for p in Purpose}
    if unknown:
        raise InvalidInput(errors={"purpose_texts": [f"Unbekannter Zweck: {', '.join(sorted(unknown))}"]})
    template = ConsentTemplate(tenant_id=tenant.id, key=key, version=version, language=language, title=title,
                               body=body, plain_body=plain_body, purpose_texts=purpose_texts,
                               text_sha256=template_hash(title, body, plain_body, purpose_texts), created_dt=now)
    db.session.add(template)
    db.session.flush()
    record(db.session, "consent.template.create", now=now, actor=actor, tenant_id=tenant.id,
           object_type="consent_template", object_id=template.id, details={"key": key, "version": version})
    return template


def _check_signatories(family: Family, signatories: list[dict[str, Any]], *, child_age_threshold: int,
                       now: datetime) -> None:
    persons = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.family_id == family.id))}
    custody = {pid for pid, p in persons.items() if p.role is PersonRole.guardian and p.has_custody}
    signed = {uuid.UUID(str(s["person_id"])) for s in signatories}
    if not signed or not signed <= set(persons):
        raise InvalidInput(errors={"signatories": ["Bitte die unterschreibenden Personen der Familie angeben."]})
    if custody and not custody <= signed:
        raise InvalidInput(errors={"signatories": [
            "Bei gemeinsamem Sorgerecht müssen alle Sorgeberechtigten einwilligen."]})


def record_consent(family: Family, *, template: ConsentTemplate, purposes: set[Purpose],
                   categories: set[DataCategory], recipient_agency_ids: set[uuid.UUID],
                   signatories: list[dict[str, Any]], channel: ConsentChannel, actor: Any, now: datetime,
                   valid_until: datetime | None = None, valid_from: datetime | None = None,
                   child_view: str | None = None, evidence: bytes | None = None,
                   supersedes: ConsentRecord | None = None, child_age_threshold: int = 14) -> ConsentRecord:
    """Record a consent the parents gave; optionally superseding an earlier record of the family."""
    if not purposes:
        raise InvalidInput(errors={"purposes": ["Bitte mindestens einen Zweck auswählen."]})
    if not set(p.value for p in purposes) <= set(template.purpose_texts):
        raise InvalidInput(errors={"purposes": ["Dieser Zweck steht nicht im gezeigten Einwilligungstext."]})
    if valid_until is not None and valid_until <= (valid_from or now):
        raise InvalidInput(errors={"valid_until": ["Das Ende muss nach dem Beginn liegen."]})
    _check_signatories(family, signatories, child_age_threshold=child_age_threshold, now=now)
    rec = ConsentRecord(
        id=new_id(), tenant_id=family.tenant_id, family_id=family.id, template_id=template.id,
        purposes=sorted(p.value for p in purposes), categories=sorted(c.value for c in categories),
        recipient_agency_ids=sorted(str(a) for a in recipient_agency_ids),
        signatories=[{"person_id": str(s["person_id"]), "role": s.get("role", "custody_holder")} for s in signatories],
        channel=channel, obtained_by_id=actor.id, obtained_agency_id=actor.agency_id, obtained_dt=now,
        valid_from=valid_from or now, valid_until=valid_until,
        evidence_sha256=hashlib.sha256(evidence).hexdigest() if evidence else None,
    )
    seal(family, rec, "child_view", child_view)
    seal(family, rec, "evidence", evidence)
    db.session.add(rec)
    db.session.flush()
    record(db.session, "consent.give", now=now, actor=actor, object_type="consent", object_id=rec.id,
           family_ref=family.id, consent_id=rec.id,
           details={"purposes": rec.purposes, "categories": rec.categories,
                    "recipients": rec.recipient_agency_ids, "channel": channel.value,
                    "template": str(template.id), "template_sha256": template.text_sha256})
    if supersedes is not None:
        supersede_consent(supersedes, by=rec, actor=actor, now=now)
    forget_grants()
    return rec


def withdraw_consent(rec: ConsentRecord, *, via: str, actor: Any, now: datetime,
                     expected_version: int | None = None) -> ConsentRecord:
    """Record a withdrawal (ex nunc): the next access by a recipient is denied."""
    # fire first: a refused withdrawal (already ended) must leave no half-set columns to autoflush
    transition(CONSENT, rec, "withdraw", actor=actor, now=now, family_ref=rec.family_id,
               details={"via": via}, expected_version=expected_version)
    rec.withdrawn_dt, rec.withdrawn_via, rec.withdrawn_recorded_by_id = now, via, actor.id
    record(db.session, "consent.withdraw", now=now, actor=actor, object_type="consent", object_id=rec.id,
           family_ref=rec.family_id, consent_id=rec.id, details={"via": via})
    forget_grants()
    for hook in WITHDRAWAL_HOOKS:
        hook(rec, actor=actor, now=now)
    return rec


#: Called after a withdrawal was recorded, in the same transaction: ``fn(rec, *, actor, now)``.
#: Features react here (cases close when the team may no longer see them).
WITHDRAWAL_HOOKS: list[Any] = []


def on_withdrawal(fn: Any) -> Any:
    """Register a reaction to a withdrawn consent (see WITHDRAWAL_HOOKS)."""
    if fn not in WITHDRAWAL_HOOKS:
        WITHDRAWAL_HOOKS.append(fn)
    return fn


def supersede_consent(rec: ConsentRecord, *, by: ConsentRecord, actor: Any, now: datetime) -> None:
    """Mark *rec* as replaced by the newer record *by*."""
    transition(CONSENT, rec, "supersede", actor=actor, now=now, family_ref=rec.family_id,
               details={"by": str(by.id)})
    rec.superseded_dt, rec.superseded_by_id = now, by.id
    forget_grants()


def expire_due_consents(*, now: datetime, actor: Any = None) -> int:
    """Persist the state of consents past valid_until (the policy already denies them at that instant)."""
    due = db.session.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.state == "active", ConsentRecord.valid_until <= now)
        .with_for_update(skip_locked=True)
    ).all()
    for rec in due:
        transition(CONSENT, rec, "expire", actor=actor, now=now, family_ref=rec.family_id, check_permission=False)
    forget_grants()
    return len(due)
