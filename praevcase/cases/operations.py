"""Use cases of cases: open from an intake, record consent, four-eyes, transitions, escalation.

Operations take the actor and the clock, flush and never commit. Every state change goes through
:func:`fire_case` → praevcase.statemachine.transition() on a row locked with :func:`lock_case`.
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.audit.operations import record
from praevcase.cases import catalogue as cat
from praevcase.cases import permissions as perms
from praevcase.cases.models import LEGAL_BASIS_8A
from praevcase.cases.models import REVIEW_DECISIONS
from praevcase.cases.models import Case
from praevcase.cases.models import CaseIntake
from praevcase.cases.models import active_team_consent
from praevcase.cases.queries import can_see
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.errors import PermissionDenied
from praevcase.errors import StaleObject
from praevcase.extensions import db
from praevcase.privacy import operations as privacy
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import check_access
from praevcase.privacy.vault import seal
from praevcase.statemachine import transition
from praevcase.tenants.models import Agency
from praevcase.tenants.models import AgencyKind
from praevcase.tenants.models import Tenant
from workflows import WORKFLOWS
from workflows.case import CaseState
from workflows.case import ClosingReason

CASE = WORKFLOWS["case"]
STALE_MESSAGE = "Jemand anderes hat diesen Fall inzwischen geändert. Bitte laden Sie die Seite neu."


class PossibleDuplicate(Conflict):
    """The blind index matched a family: the user chooses (409) — nothing was written."""

    code = "possible_duplicate"

    def __init__(self, candidates: list[dict[str, Any]]):
        super().__init__("Möglicherweise ist diese Familie bereits erfasst. Bitte wählen Sie, wie es weitergeht.",
                         errors={"possible_duplicates": candidates})
        self.candidates = candidates


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != case.version:
        raise StaleObject(STALE_MESSAGE)


def lock_case(case_id: uuid.UUID, actor: Any) -> Case:
    """Load the case ``FOR UPDATE`` (fresh from the database); 404 unless *actor* may see it."""
    case = db.session.scalar(
        sa.select(Case).where(Case.id == case_id).with_for_update(of=Case)
        .execution_options(populate_existing=True))
    if case is None or not can_see(actor, case):
        raise NotFound()
    return case


# --- intake ------------------------------------------------------------------------------------


def _consent_refs(consent: dict[str, Any]) -> tuple[ConsentTemplate, list[Agency]]:
    """Resolve the chosen template and recipient agencies of the own tenant, before anything is written."""
    template = db.session.get(ConsentTemplate, consent["template_id"])
    if template is None or not template.is_active:
        raise InvalidInput(errors={"consent": {"template_id": ["Dieser Einwilligungstext ist nicht verfügbar."]}})
    if not {p.value for p in consent["purposes"]} <= set(template.purpose_texts):
        raise InvalidInput(errors={"consent": {"purposes": ["Dieser Zweck steht nicht im gewählten Text."]}})
    ids = set(consent["recipient_agency_ids"])
    agencies = list(db.session.scalars(sa.select(Agency).where(Agency.id.in_(ids), Agency.is_active)))
    if len(agencies) != len(ids):
        raise InvalidInput(errors={"consent": {"recipient_agency_ids": ["Bitte nur Stellen aus der Liste wählen."]}})
    return template, agencies


def _matched_families(tenant_id: uuid.UUID, data: dict[str, Any]) -> list[Family]:
    ids: set[uuid.UUID] = set()
    for person in [*data["children"], *data.get("guardians", [])]:
        if person.get("birth_date"):
            ids.update(privacy.possible_duplicates(tenant_id, family_name=person["family_name"],
                                                   given_name=person["given_name"], birth_date=person["birth_date"]))
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Family).where(Family.id.in_(ids), Family.erased_dt.is_(None))
                                   .order_by(Family.case_number)))


def _candidate(family: Family, actor: Any, now: datetime) -> dict[str, Any]:
    """What the user is told about a match: the case number only if own agency or consent allows."""
    attachable = family.holder_agency_id == actor.agency_id
    visible = attachable or check_access(family, [DataCategory.identity], actor=actor, purpose=Purpose.team_review,
                                         now=now)[0].allowed
    return {"family_id": str(family.id) if attachable else None,
            "case_number": family.case_number if visible else None, "attachable": attachable}


def _family_for(tenant: Tenant, data: dict[str, Any], *, actor: Any, now: datetime) -> tuple[Family, list[Family]]:
    matches = _matched_families(tenant.id, data)
    choice = data.get("duplicate_choice")
    if matches and choice is None:
        raise PossibleDuplicate([_candidate(f, actor, now) for f in matches])
    if matches and choice != "new":
        family = next((f for f in matches if str(f.id) == choice and f.holder_agency_id == actor.agency_id), None)
        if family is None:
            raise InvalidInput(errors={"duplicate_choice": ["Diese Familie kann hier nicht gewählt werden."]})
        return family, [f for f in matches if f is not family]
    family = privacy.create_family(tenant, holder_agency=actor.agency, sozialraum=data.get("sozialraum"),
                                   actor=actor, now=now)
    return family, matches


def _add_persons(family: Family, data: dict[str, Any], *, now: datetime) -> None:
    known = set(db.session.scalars(sa.select(Person.match_index).where(Person.family_id == family.id)))
    for role, people in ((PersonRole.child, data["children"]), (PersonRole.guardian, data.get("guardians", []))):
        for p in people:
            if p.get("birth_date") and privacy.match_index(family.tenant_id, p["family_name"], p["given_name"],
                                                           p["birth_date"]) in known:
                continue  # the same person is already in the family the user chose
            privacy.add_person(family, role=role, given_name=p["given_name"], family_name=p["family_name"],
                               birth_date=p.get("birth_date"), address=p.get("address"), phone=p.get("phone"),
                               languages=p.get("languages"), has_custody=bool(p.get("has_custody")), now=now)
    db.session.flush()


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return getattr(value, "value", value)


def open_case(tenant: Tenant, channel: cat.IntakeChannel, data: dict[str, Any], answer_fields: tuple[str, ...], *,
              actor: Any, now: datetime) -> Case:
    """Open a case from a validated intake: family, persons, sealed answers, consent, first transitions.

    :raises PossibleDuplicate: the blind index matched a family and ``duplicate_choice`` is missing
    :raises InvalidInput: a referenced template, agency or family is not available
    """
    consent = data["consent"]
    refs = _consent_refs(consent) if consent["status"] == "given" else None
    family, other_matches = _family_for(tenant, data, actor=actor, now=now)
    _add_persons(family, data, now=now)
    youngest = max(c["birth_date"] for c in data["children"])
    case = Case(id=new_id(), tenant_id=tenant.id, family_id=family.id, channel=channel,
                origin_agency_id=actor.agency_id, opened_by_id=actor.id, state=CaseState.draft,
                age_phase=cat.age_phase(youngest, now.date()), needs=[n.value for n in data["needs"]],
                team_summary=data["team_summary"].strip(), four_eyes_required=channel in cat.FOUR_EYES_CHANNELS,
                possible_duplicate_family_ids=[str(f.id) for f in other_matches], created_dt=now)
    intake = CaseIntake(id=new_id(), tenant_id=tenant.id, case_id=case.id, schema=f"{channel.value}/1",
                        created_dt=now)
    answers = {k: _jsonable(data[k]) for k in answer_fields if k in data}
    column = "health_answers" if channel in cat.HEALTH_CHANNELS else "situation_answers"
    seal(family, intake, column, json.dumps(answers, ensure_ascii=False, sort_keys=True))
    seal(family, intake, "observation", data.get("observation"))
    db.session.add(case)
    db.session.flush()
    db.session.add(intake)
    record(db.session, "case.open", now=now, actor=actor, object_type="case", object_id=case.id,
           family_ref=family.id, details={"channel": channel.value, "possible_duplicates": len(other_matches)})
    fire_case(case, "submit", actor=actor, now=now)
    if refs is not None:
        _record_consent(case, family, consent, refs, actor=actor, now=now)
    elif consent["status"] == "refused":
        fire_case(case, "refuse_consent", actor=actor, now=now)
    return case


def _record_consent(case: Case, family: Family, consent: dict[str, Any],
                    refs: tuple[ConsentTemplate, list[Agency]], *, actor: Any, now: datetime) -> None:
    template, agencies = refs
    signatories = [{"person_id": p.id, "role": "custody_holder"} for p in db.session.scalars(
        sa.select(Person).where(Person.family_id == family.id, Person.role == PersonRole.guardian,
                                Person.has_custody.is_(True)))]
    if not signatories:
        raise InvalidInput(errors={"guardians": ["Es ist keine sorgeberechtigte Person erfasst."]})
    until = consent.get("valid_until")
    privacy.record_consent(
        family, template=template, purposes=set(consent["purposes"]), categories=set(consent["categories"]),
        recipient_agency_ids={a.id for a in agencies}, signatories=signatories, channel=consent["channel"],
        actor=actor, now=now,
        valid_until=datetime.combine(until + timedelta(days=1), time(0), tzinfo=UTC) if until else None)
    if case.intake_confirmed(_Event(now=now)):
        fire_case(case, "confirm_consent", actor=actor, now=now)


class _Event:
    """The bit of transitions' EventData a guard reads, for asking a guard outside a trigger."""

    def __init__(self, **kwargs: Any):
        self.kwargs = kwargs


def record_case_consent(case: Case, data: dict[str, Any], *, actor: Any, now: datetime) -> Case:
    """The parents decided later: record the consent (and go to the team) or the refusal."""
    _check_version(case, data.get("version"))
    if not perms.is_origin_intake(actor, case):
        raise PermissionDenied()
    if case.state is not CaseState.consent_pending:
        raise Conflict("Die Einwilligung kann nur erfasst werden, solange sie aussteht.")
    if data["status"] == "refused":
        return fire_case(case, "refuse_consent", actor=actor, now=now)
    family = db.session.get(Family, case.family_id)
    _record_consent(case, family, data, _consent_refs(data), actor=actor, now=now)
    return case


def confirm_intake(case: Case, *, actor: Any, now: datetime, expected_version: int | None) -> Case:
    """Four-eyes: a second professional of the same agency confirms the screening."""
    _check_version(case, expected_version)
    if not case.four_eyes_required or case.intake_confirmed_dt is not None:
        raise Conflict("Dieser Fall braucht keine weitere Bestätigung.")
    if not perms.may_confirm_intake(actor, case):
        raise PermissionDenied("Bestätigen muss eine zweite Fachkraft derselben Stelle.")
    if case.state is not CaseState.consent_pending:
        raise Conflict("Der Fall kann in diesem Zustand nicht mehr bestätigt werden.")
    case.intake_confirmed_by_id, case.intake_confirmed_dt = actor.id, now
    case.version += 1
    record(db.session, "case.intake_confirm", now=now, actor=actor, object_type="case", object_id=case.id,
           family_ref=case.family_id)
    if case.has_team_consent(_Event(now=now)):
        fire_case(case, "confirm_consent", actor=actor, now=now)
    db.session.flush()
    return case


def propose_escalation(case: Case, data: dict[str, Any], *, actor: Any, now: datetime) -> Case:
    """First step of the four-eyes escalation: a written justification naming the Jugendamt."""
    _check_version(case, data.get("version"))
    if not perms.may_propose_escalation(actor, case):
        raise PermissionDenied()
    if case.state not in CASE.open_states or case.escalation_proposed_by_id is not None:
        raise Conflict("Für diesen Fall kann keine Übergabe (mehr) vorgeschlagen werden.")
    agency = db.session.get(Agency, data["escalated_to_agency_id"])
    if agency is None or agency.kind is not AgencyKind.jugendamt or not agency.is_active:
        raise InvalidInput(errors={"escalated_to_agency_id": ["Bitte ein Jugendamt wählen."]})
    family = db.session.get(Family, case.family_id)
    seal(family, case, "escalation_justification", data["justification"])
    case.escalation_proposed_by_id, case.escalation_proposed_dt = actor.id, now
    case.escalated_to_agency_id = agency.id
    case.version += 1
    record(db.session, "case.escalation_propose", now=now, actor=actor, object_type="case", object_id=case.id,
           family_ref=case.family_id, legal_basis=LEGAL_BASIS_8A, details={"to_agency": str(agency.id)})
    db.session.flush()
    return case


# --- transitions -------------------------------------------------------------------------------


def lotse_candidate(user_id: uuid.UUID) -> User:
    """An active team member of the tenant (the Lotse is a member of the prevention team)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or Role.team_member not in user.roles:
        raise InvalidInput(errors={"lotse_user_id": ["Bitte eine Präventionskraft des Teams wählen."]})
    return user


def apply_action(case: Case, data: dict[str, Any], *, actor: Any, now: datetime) -> Case:
    """Fire the trigger of a validated TransitionIn on a locked case."""
    if data["trigger"] not in CASE.triggers:
        raise InvalidInput(errors={"trigger": ["Unbekannte Aktion."]})
    lotse = lotse_candidate(data["lotse_user_id"]) if data.get("lotse_user_id") else None
    return fire_case(case, data["trigger"], actor=actor, now=now, expected_version=data.get("version"),
                     reason=data.get("reason"), closing_reason=data.get("closing_reason"), lotse=lotse,
                     withdrawn_via=data.get("withdrawn_via"))


_CLOSING = {"refuse_consent": ClosingReason.family_declined, "withdraw_consent": ClosingReason.consent_withdrawn}


def fire_case(case: Case, trigger: str, *, actor: Any, now: datetime, expected_version: int | None = None,
              reason: str | None = None, closing_reason: ClosingReason | None = None, lotse: Any = None,
              withdrawn_via: str | None = None, check_permission: bool = True) -> Case:
    """Apply *trigger* to *case* (locked by the caller) and write what goes with it.

    History, audit event and version come from praevcase.statemachine.transition(); the
    columns the new state needs (closing reason, Lotse, escalation record) are set after
    fire() returned, in the same flush, so a refused trigger changes nothing.
    """
    _check_version(case, expected_version)
    closing_reason = _CLOSING.get(trigger, closing_reason if trigger == "close" else None)
    details: dict[str, Any] = {}
    if closing_reason is not None:
        details["closing_reason"] = closing_reason.value
    if lotse is not None:
        details["lotse_user_id"] = str(lotse.id)
    if trigger == "escalate":
        details.update(legal_basis=LEGAL_BASIS_8A, to_agency=str(case.escalated_to_agency_id))
    source, _dest = transition(CASE, case, trigger, actor=actor, now=now, reason=reason, family_ref=case.family_id,
               details=details, check_permission=check_permission,
               lotse=lotse if trigger in ("assign_lotse", "hand_over_lotse") else None,
               closing_reason=closing_reason)
    if trigger == "confirm_consent":
        case.reached_team_dt = now
    elif trigger in ("assign_lotse", "hand_over_lotse"):
        case.lotse_user_id, case.lotse_assigned_dt = lotse.id, now
        case.first_lotse_dt = case.first_lotse_dt or now
    elif trigger == "escalate":
        case.escalated_by_id, case.escalated_dt, case.escalation_legal_basis = actor.id, now, LEGAL_BASIS_8A
    if source is CaseState.on_agenda and trigger in REVIEW_DECISIONS:
        case.reviewed_dt = case.reviewed_dt or now  # the reports' milestone
    if case.state is CaseState.closed:
        case.closing_reason, case.closed_dt = closing_reason, now
    if trigger == "withdraw_consent":
        _withdraw_team_consents(case, via=withdrawn_via or "persoenlich", actor=actor, now=now)
    db.session.flush()
    return case


def _withdraw_team_consents(case: Case, *, via: str, actor: Any, now: datetime) -> None:
    """The parents withdrew: every active consent of the family for the team's purpose ends now."""
    records = db.session.scalars(sa.select(ConsentRecord).where(
        ConsentRecord.family_id == case.family_id, ConsentRecord.state == "active").with_for_update())
    for rec in records:
        if Purpose.team_review.value in rec.purposes:
            privacy.withdraw_consent(rec, via=via, actor=actor, now=now)


@privacy.on_withdrawal
def _close_cases_after_withdrawal(rec: ConsentRecord, *, actor: Any, now: datetime) -> None:
    """No active consent for the team any more: the family's open cases close (reason: withdrawn).

    The parents decided; whoever recorded the withdrawal (any agency, any channel) need not also
    hold the case permission, so the transition runs without the per-trigger check — it is still
    recorded with that actor in history and audit.
    """
    if Purpose.team_review.value not in rec.purposes:
        return
    if active_team_consent(rec.family_id, now) is not None:
        return  # another consent still covers the team
    open_cases = db.session.scalars(
        sa.select(Case).where(Case.family_id == rec.family_id, Case.state.in_(
            [s for s in CaseState if s not in (CaseState.closed, CaseState.escalated)]))
        .with_for_update()
    ).all()
    for case in open_cases:
        fire_case(case, "withdraw_consent", actor=actor, now=now, withdrawn_via=rec.withdrawn_via,
                  check_permission=False)
