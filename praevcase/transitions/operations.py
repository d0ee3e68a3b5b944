"""Use cases of the Ü1/Ü2 protocols: write dated versions, hand over with consent, receive, follow up.

Operations take the actor and the clock, flush and never commit. Every state change goes through
:func:`fire` (one locked row, the workflow table, the permission registered in permissions.py);
afterwards the protocol's reminders are checked again, so a reminder whose reason is gone
disappears at once rather than at the next sweep.
"""
from __future__ import annotations

import json
import uuid
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consent.scopes import LegalBasis
from praevcase.audit.operations import record
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.privacy import operations as privacy_ops
from praevcase.privacy import vault
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.reminders.operations import recheck_subject
from praevcase.statemachine import transition
from praevcase.tenants.models import Agency
from praevcase.tenants.models import AgencyKind
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings
from praevcase.transitions import content as content_mod
from praevcase.transitions.calendar import SchoolCalendar
from praevcase.transitions.calendar import local_date
from praevcase.transitions.handover import HANDOVER_CATEGORIES
from praevcase.transitions.handover import PURPOSE
from praevcase.transitions.handover import handover_basis
from praevcase.transitions.models import Handover
from praevcase.transitions.models import ProtocolKind
from praevcase.transitions.models import ProtocolTemplate
from praevcase.transitions.models import ProtocolVersion
from praevcase.transitions.models import U1Protocol
from praevcase.transitions.models import U2Protocol
from workflows import WORKFLOWS
from workflows.u1_protocol import U1ProtocolState
from workflows.u2_protocol import U2ProtocolState

MODELS: dict[ProtocolKind, type[U1Protocol] | type[U2Protocol]] = {ProtocolKind.u1: U1Protocol,
                                                                   ProtocolKind.u2: U2Protocol}
#: Who writes and who receives each protocol
AUTHOR_KIND = {ProtocolKind.u1: AgencyKind.kita, ProtocolKind.u2: AgencyKind.grundschule}
RECEIVER_KIND = {ProtocolKind.u1: AgencyKind.grundschule, ProtocolKind.u2: AgencyKind.weiterfuehrende_schule}
EDITABLE = {ProtocolKind.u1: U1ProtocolState.draft, ProtocolKind.u2: U2ProtocolState.draft}
CONSENT_TEMPLATE_KEY = {ProtocolKind.u1: "uebergang-ue1", ProtocolKind.u2: "uebergang-ue2"}

Protocol = U1Protocol | U2Protocol


def _fk(kind: ProtocolKind) -> str:
    return f"{kind.value}_protocol_id"


def _audit(protocol: Protocol, action: str, *, actor: Any, now: datetime, **kwargs: Any) -> None:
    record(db.session, f"transitions.{protocol.kind.value}.{action}", now=now, actor=actor,
           tenant_id=protocol.tenant_id, object_type=protocol.workflow_name, object_id=protocol.id,
           family_ref=protocol.family_id, **kwargs)


# --- templates ------------------------------------------------------------------------------------


def current_template(tenant_id: uuid.UUID, kind: ProtocolKind, *, now: datetime) -> ProtocolTemplate:
    """The tenant's newest template of *kind*; the NRW default becomes version 1 on first use."""
    template = db.session.scalar(
        sa.select(ProtocolTemplate).where(ProtocolTemplate.tenant_id == tenant_id, ProtocolTemplate.kind == kind)
        .order_by(ProtocolTemplate.version.desc()).limit(1))
    if template is None:
        template = ProtocolTemplate(id=new_id(), tenant_id=tenant_id, kind=kind, version=1, created_dt=now,
                                    **content_mod.default_template(kind))
        db.session.add(template)
        db.session.flush()
    return template


def update_template(tenant: Tenant, kind: ProtocolKind, *, areas: list[str], scale: list[str],
                    recommendations: list[str], actor: Any, now: datetime) -> ProtocolTemplate:
    """A new version of the tenant's template; protocols written earlier keep theirs."""
    if not areas or not scale or (kind is ProtocolKind.u2 and not recommendations):
        raise InvalidInput(errors={"areas": ["Bereiche, Skala und (Ü2) Empfehlungen dürfen nicht leer sein."]})
    previous = current_template(tenant.id, kind, now=now)
    template = ProtocolTemplate(id=new_id(), tenant_id=tenant.id, kind=kind, version=previous.version + 1,
                                areas=content_mod.options(areas), scale=content_mod.options(scale),
                                recommendations=content_mod.options(recommendations) if kind is ProtocolKind.u2
                                else [], created_dt=now, created_by_id=actor.id)
    db.session.add(template)
    db.session.flush()
    record(db.session, "transitions.template.update", now=now, actor=actor, object_type="transition_template",
           object_id=template.id, details={"kind": kind.value, "version": template.version})
    return template


def ensure_consent_template(tenant: Tenant, kind: ProtocolKind, *, actor: Any, now: datetime) -> ConsentTemplate:
    """The active consent text for handing over *kind* protocols (a default text on first use)."""
    purpose = PURPOSE[kind].value
    for template in db.session.scalars(
            sa.select(ConsentTemplate).where(ConsentTemplate.tenant_id == tenant.id, ConsentTemplate.is_active)
            .order_by(ConsentTemplate.created_dt.desc())):
        if purpose in template.purpose_texts:
            return template
    school = "die Grundschule" if kind is ProtocolKind.u1 else "die weiterführende Schule"
    label = "Ü1" if kind is ProtocolKind.u1 else "Ü2"
    return privacy_ops.create_template(
        tenant, key=CONSENT_TEMPLATE_KEY[kind], version=1, language="de",
        title=f"Einwilligung in die Weitergabe des Übergangsprotokolls {label}",
        body=(f"Wir willigen ein, dass das Übergangsprotokoll {label} unseres Kindes mit Namen und Geburtsdatum "
              f"an {school} übergeben wird, die in dieser Einwilligung genannt ist. Die Einwilligung ist "
              "freiwillig und kann jederzeit ohne Nachteile widerrufen werden; der Widerruf gilt für die Zukunft."),
        plain_body=(f"Das Protokoll über die Entwicklung Ihres Kindes geht nur an {school}, die hier steht. "
                    "Sie müssen nicht zustimmen. Sie können jederzeit Nein sagen."),
        purpose_texts={purpose: f"Übergabe des Protokolls {label} an {school}"}, actor=actor, now=now)


# --- creating and editing ---------------------------------------------------------------------------


def _agency(agency_id: uuid.UUID | None) -> Agency:
    agency = db.session.get(Agency, agency_id) if agency_id else None
    if agency is None or not agency.is_active:
        raise InvalidInput(errors={"receiver_agency_id": ["Bitte eine Einrichtung aus der Liste wählen."]})
    return agency


def _check_receiver(kind: ProtocolKind, agency_id: uuid.UUID) -> Agency:
    agency = _agency(agency_id)
    if agency.kind is not RECEIVER_KIND[kind]:
        wanted = "eine Grundschule" if kind is ProtocolKind.u1 else "eine weiterführende Schule"
        raise InvalidInput(errors={"receiver_agency_id": [f"Das Protokoll geht an {wanted}."]})
    return agency


def require_author(protocol: Protocol, actor: Any) -> None:
    if actor is None or actor.agency_id != protocol.author_agency_id:
        raise PermissionDenied()


def next_sender(protocol: Protocol) -> uuid.UUID:
    """The institution the next handover goes out from: a received Ü2 travels on from its school."""
    if protocol.kind is ProtocolKind.u2 and protocol.state is U2ProtocolState.received:
        return protocol.receiver_agency_id  # type: ignore[return-value]
    return protocol.author_agency_id


def create_protocol(kind: ProtocolKind, *, child: dict[str, Any], guardians: list[dict[str, Any]],
                    receiver_agency_id: uuid.UUID | None, school_year: int | None, actor: Any,
                    now: datetime) -> Protocol:
    """A new protocol for a child, in the author's own new family record (the author holds the data).

    *child*: given_name, family_name, birth_date; *guardians*: given_name, family_name, has_custody.
    Ü1's school year follows from the birth date and the tenant's cut-off unless given.
    """
    author = db.session.get(Agency, actor.agency_id)
    if author.kind is not AUTHOR_KIND[kind]:
        raise PermissionDenied()
    if receiver_agency_id is not None:
        _check_receiver(kind, receiver_agency_id)
    tenant = db.session.get(Tenant, actor.tenant_id)
    calendar = SchoolCalendar.of(effective_settings(tenant.settings))
    if school_year is None:
        school_year = (calendar.entry_year(child["birth_date"]) if kind is ProtocolKind.u1
                       else calendar.school_year_of(local_date(now)) + 1)
    family = privacy_ops.create_family(tenant, holder_agency=author, sozialraum=author.sozialraum, actor=actor,
                                       now=now)
    person = privacy_ops.add_person(family, role=PersonRole.child, given_name=child["given_name"],
                                    family_name=child["family_name"], birth_date=child["birth_date"], now=now)
    for g in guardians:
        privacy_ops.add_person(family, role=PersonRole.guardian, given_name=g["given_name"],
                               family_name=g["family_name"], has_custody=g.get("has_custody", True), now=now)
    db.session.flush()
    protocol = MODELS[kind](id=new_id(), tenant_id=tenant.id, family_id=family.id, child_id=person.id,
                            author_agency_id=author.id, sender_agency_id=author.id,
                            receiver_agency_id=receiver_agency_id, school_year=school_year, created_by_id=actor.id,
                            created_dt=now, updated_dt=now)
    db.session.add(protocol)
    db.session.flush()
    _audit(protocol, "create", actor=actor, now=now, details={"school_year": school_year})
    return protocol


def _expect(protocol: Protocol, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != protocol.version:
        from praevcase.errors import StaleObject

        raise StaleObject()


def save_content(protocol: Protocol, data: dict[str, Any], *, template: ProtocolTemplate, actor: Any,
                 now: datetime, expected_version: int | None = None) -> ProtocolVersion:
    """A new dated version of the content (only the author, only in draft)."""
    require_author(protocol, actor)
    _expect(protocol, expected_version)
    if protocol.state is not EDITABLE[protocol.kind]:
        raise Conflict("Das Protokoll kann nur im Entwurf bearbeitet werden.")
    content = content_mod.content_from_form(protocol.kind, template, data)
    number = (db.session.scalar(sa.select(sa.func.max(ProtocolVersion.number))
                                .where(getattr(ProtocolVersion, _fk(protocol.kind)) == protocol.id)) or 0) + 1
    version = ProtocolVersion(id=new_id(), tenant_id=protocol.tenant_id, family_id=protocol.family_id,
                              number=number, created_dt=now, created_by_id=actor.id, template_id=template.id,
                              **{_fk(protocol.kind): protocol.id})
    vault.seal(_family(protocol), version, "content", json.dumps(content, ensure_ascii=False))
    db.session.add(version)
    protocol.current_version_id, protocol.updated_dt = version.id, now
    protocol.version += 1  # a saved form makes older forms of this protocol stale
    if protocol.kind is ProtocolKind.u2:
        protocol.has_recommendation = content_mod.has_reasoned_recommendation(content)
    db.session.flush()
    _audit(protocol, "save", actor=actor, now=now, details={"version": number})
    return version


def set_receiver(protocol: Protocol, receiver_agency_id: uuid.UUID, *, actor: Any, now: datetime) -> None:
    """Name the receiving school (before the handover)."""
    require_author(protocol, actor)
    if protocol.current_handover_id is not None:
        raise Conflict("Das Protokoll wurde bereits übergeben; die Schule kann nicht mehr geändert werden.")
    _check_receiver(protocol.kind, receiver_agency_id)
    protocol.receiver_agency_id, protocol.updated_dt = receiver_agency_id, now
    db.session.flush()
    _audit(protocol, "receiver", actor=actor, now=now, details={"receiver": str(receiver_agency_id)})


def record_parent_talk(protocol: U1Protocol, on: date, *, actor: Any, now: datetime) -> None:
    """The Kita discussed the protocol with the parents (needed before it can be final)."""
    require_author(protocol, actor)
    if protocol.state not in (U1ProtocolState.draft, U1ProtocolState.ready):
        raise Conflict("Das Elterngespräch wird vor der Übergabe erfasst.")
    if on > local_date(now):
        raise InvalidInput(errors={"parent_talk_on": ["Das Gespräch kann nicht in der Zukunft liegen."]})
    protocol.parent_talk_on, protocol.updated_dt = on, now
    db.session.flush()
    _audit(protocol, "parent_talk", actor=actor, now=now)


def record_handover_consent(protocol: Protocol, *, recipient_agency_id: uuid.UUID, signatory_ids: list[uuid.UUID],
                            channel: ConsentChannel, valid_until: datetime | None, actor: Any,
                            now: datetime) -> ConsentRecord:
    """The parents' consent to hand the protocol to one named school (recorded by the sending institution)."""
    if actor.agency_id != next_sender(protocol):
        raise PermissionDenied()
    _check_receiver(protocol.kind, recipient_agency_id)
    tenant = db.session.get(Tenant, protocol.tenant_id)
    template = ensure_consent_template(tenant, protocol.kind, actor=actor, now=now)
    rec = privacy_ops.record_consent(
        _family(protocol), template=template, purposes={PURPOSE[protocol.kind]},
        categories=set(HANDOVER_CATEGORIES), recipient_agency_ids={recipient_agency_id},
        signatories=[{"person_id": pid} for pid in signatory_ids], channel=channel, valid_until=valid_until,
        actor=actor, now=now)
    _audit(protocol, "consent", actor=actor, now=now, consent_id=rec.id,
           details={"recipient": str(recipient_agency_id)})
    return rec


def guardians(protocol: Protocol) -> list[Person]:
    return list(db.session.scalars(sa.select(Person).where(Person.family_id == protocol.family_id,
                                                           Person.role == PersonRole.guardian)
                                   .order_by(Person.created_dt, Person.id)))


# --- the workflow ------------------------------------------------------------------------------------


def fire(protocol: Protocol, trigger: str, *, actor: Any, now: datetime, expected_version: int | None = None,
         reason: str | None = None, to: uuid.UUID | None = None, follow_up_on: date | None = None,
         note: str | None = None, system: bool = False) -> None:
    """Fire *trigger* on *protocol* (loaded FOR UPDATE) and write what follows from it.

    ``to``: the new school of a forward; ``follow_up_on``/``note``: the follow-up visit;
    ``system``: the school-start sweep, which no person's permission covers.
    """
    workflow = WORKFLOWS[protocol.workflow_name]
    basis = None
    if trigger == "forward":
        if to is None:
            raise InvalidInput(errors={"to": ["Bitte die neue Schule wählen."]})
        _check_receiver(protocol.kind, to)
    target = to if trigger == "forward" else protocol.receiver_agency_id
    if trigger in ("hand_over", "forward") and target is not None and protocol.current_version_id is not None:
        basis = handover_basis(protocol, target, now=now)
    if trigger == "record_follow_up" and follow_up_on is None:
        raise InvalidInput(errors={"follow_up_on": ["Bitte das Datum des Besuchs angeben."]})
    details = {"to": str(target)} if basis is not None else None
    transition(workflow, protocol, trigger, actor=actor, now=now, reason=reason, family_ref=protocol.family_id,
               details=details, check_permission=not system, expected_version=expected_version, to=to)
    protocol.updated_dt = now
    if basis is not None:
        _record_handover(protocol, target, basis, actor=actor, now=now)  # type: ignore[arg-type]
    elif trigger == "confirm_receipt":
        handover = db.session.get(Handover, protocol.current_handover_id)
        handover.received_dt, handover.received_by_id = now, actor.id
    elif trigger == "defer":
        protocol.school_year += 1
        protocol.deferrals += 1
    elif trigger == "record_follow_up":
        protocol.follow_up_on = follow_up_on
        vault.seal(_family(protocol), protocol, "follow_up_note", note or None)
    db.session.flush()
    recheck_subject(protocol.id, now=now)


def _record_handover(protocol: Protocol, target: uuid.UUID, basis: tuple[LegalBasis, uuid.UUID | None], *,
                     actor: Any, now: datetime) -> Handover:
    legal_basis, consent_id = basis
    if protocol.current_handover_id is not None:  # forward: the school that had it sends it on
        protocol.sender_agency_id = protocol.receiver_agency_id  # type: ignore[assignment]
    protocol.receiver_agency_id = target
    handover = Handover(id=new_id(), tenant_id=protocol.tenant_id, from_agency_id=protocol.sender_agency_id,
                        to_agency_id=target, legal_basis=legal_basis.value, consent_id=consent_id,
                        version_id=protocol.current_version_id, handed_over_dt=now,
                        handed_over_by_id=getattr(actor, "id", None), **{_fk(protocol.kind): protocol.id})
    db.session.add(handover)
    protocol.current_handover_id = handover.id
    db.session.flush()
    _audit(protocol, "handover", actor=actor, now=now, legal_basis=legal_basis, consent_id=consent_id,
           details={"to": str(target), "handover": str(handover.id)})
    return handover


def mark_school_started(*, now: datetime) -> int:
    """Ü1 protocols received for a school year that has begun move to "follow-up due" (system sweep)."""
    count = 0
    for tenant in db.session.scalars(sa.select(Tenant)):
        calendar = SchoolCalendar.of(effective_settings(tenant.settings))
        started = calendar.school_year_of(local_date(now))
        due = db.session.scalars(
            sa.select(U1Protocol).where(U1Protocol.tenant_id == tenant.id,
                                        U1Protocol.state == U1ProtocolState.received,
                                        U1Protocol.school_year <= started)
            .with_for_update(skip_locked=True)).all()
        for protocol in due:
            fire(protocol, "school_started", actor=None, now=now, system=True)
        count += len(due)
    return count


# --- reading ---------------------------------------------------------------------------------------


def _family(protocol: Protocol) -> Family:
    return db.session.get(Family, protocol.family_id)


def reader_basis(protocol: Protocol, actor: Any) -> LegalBasis | None:
    """The school-law basis, when the actor's school received the protocol on it (else consent decides)."""
    if protocol.current_handover_id is None or actor.agency_id != protocol.receiver_agency_id:
        return None
    handover = db.session.get(Handover, protocol.current_handover_id)
    return LegalBasis.school_law if handover.legal_basis == LegalBasis.school_law.value else None


def readable_versions(protocol: Protocol, actor: Any) -> list[ProtocolVersion]:
    """The author sees every dated version; the receiving school the one handed over."""
    if actor.agency_id == protocol.author_agency_id:
        return list(db.session.scalars(
            sa.select(ProtocolVersion).where(getattr(ProtocolVersion, _fk(protocol.kind)) == protocol.id)
            .order_by(ProtocolVersion.number.desc())))
    handover = db.session.get(Handover, protocol.current_handover_id) if protocol.current_handover_id else None
    return [] if handover is None else [db.session.get(ProtocolVersion, handover.version_id)]


def read_version(protocol: Protocol, version: ProtocolVersion, *, actor: Any, now: datetime) -> Any:
    """The content of *version* through reveal() (consent checked and logged); a Denied marker if refused."""
    value = vault.reveal(_family(protocol), version, ["content"], actor=actor, purpose=PURPOSE[protocol.kind],
                         now=now, legal_basis=reader_basis(protocol, actor), on_denial="mark")["content"]
    return json.loads(value) if isinstance(value, str | bytes) else value


def read_child(protocol: Protocol, *, actor: Any, now: datetime) -> dict[str, Any]:
    child = db.session.get(Person, protocol.child_id)
    return vault.reveal(_family(protocol), child, ["given_name", "family_name", "birth_date"], actor=actor,
                        purpose=PURPOSE[protocol.kind], now=now, legal_basis=reader_basis(protocol, actor),
                        on_denial="mark")


def read_follow_up_note(protocol: U1Protocol, *, actor: Any, now: datetime) -> Any:
    if protocol.follow_up_note_ct is None:
        return None
    return vault.reveal(_family(protocol), protocol, ["follow_up_note"], actor=actor, purpose=PURPOSE[protocol.kind],
                        now=now, on_denial="mark")["follow_up_note"]


def guardian_names(protocol: Protocol, *, actor: Any, now: datetime) -> list[tuple[Person, Any]]:
    """Guardians with their revealed names (the consent form's signatories)."""
    people = guardians(protocol)
    values = vault.reveal_many([(_family(protocol), p) for p in people], ["given_name", "family_name"], actor=actor,
                               purpose=PURPOSE[protocol.kind], now=now)
    return list(zip(people, values, strict=True))

