"""The case file as one viewer may see it: every personal value through vault.reveal(on_denial="mark").

Shared by the detail page and the API, so both show exactly the same. Which purpose or legal
basis a read uses depends on who reads:

- the agency that opened the case reads on its own legal basis (the policy says own_agency);
- the Lotse reads for ``lotse_support`` and also sees contact data;
- other team members and the coordinator read for ``team_review`` — names only where an active
  consent names their agency; otherwise "Einwilligung deckt Ihre Stelle nicht ab";
- health answers are read for ``health_data_sharing``, so the consent must name that purpose;
- after an escalation, users of the Jugendamt the case was handed to read under
  ``LegalBasis.child_welfare_8a`` (the only place that basis is claimed, besides the four-eyes
  reading of the escalation justification by the coordinator/Lotse); other team members no
  longer see the family at all, because the case left the consent-based prevention path.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consent.scopes import LABELS
from consent.scopes import DataCategory
from consent.scopes import LegalBasis
from consent.scopes import Purpose
from praevcase.cases import catalogue as cat
from praevcase.cases import permissions as perms
from praevcase.cases import queries
from praevcase.cases.models import ASKED
from praevcase.cases.models import Case
from praevcase.cases.models import CaseIntake
from praevcase.cases.models import active_team_consent
from praevcase.extensions import db
from praevcase.i18n import N_
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import Denied
from praevcase.privacy.vault import grants_for
from praevcase.privacy.vault import reveal
from praevcase.statemachine import TransitionHistory
from praevcase.statemachine import permitted_triggers
from workflows import WORKFLOWS
from workflows.case import CLOSING_REASON_LABELS_DE
from workflows.case import CaseState

CASE = WORKFLOWS["case"]
IDENTITY = ["given_name", "family_name", "birth_date"]
CONTACT = ["address", "phone"]


@dataclass(frozen=True)
class Access:
    purpose: Purpose
    legal_basis: LegalBasis | None
    persons: bool
    contact: bool


def access_for(case: Case, family: Family, actor: Any) -> Access:
    own = actor.agency_id == family.holder_agency_id
    if case.state is CaseState.escalated:
        if actor.agency_id == case.escalated_to_agency_id and not own:
            return Access(Purpose.team_review, LegalBasis.child_welfare_8a, persons=True, contact=True)
        return Access(Purpose.team_review, None, persons=own, contact=own)
    if perms.is_lotse(actor, case):
        return Access(Purpose.lotse_support, None, persons=True, contact=True)
    return Access(Purpose.team_review, None, persons=True, contact=own)


def _reveal(family: Family, obj: Any, columns: list[str], access: Access, *, actor: Any, now: datetime,
            purpose: Purpose | None = None) -> dict[str, Any]:
    return reveal(family, obj, columns, actor=actor, purpose=purpose or access.purpose, now=now,
                  legal_basis=access.legal_basis, on_denial="mark", grants=grants_for([family.id])[family.id])


def _persons(family: Family, access: Access, *, actor: Any, now: datetime) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(Person).where(Person.family_id == family.id)
                              .order_by(Person.role, Person.created_dt, Person.id))
    out = []
    for p in rows:
        values = _reveal(family, p, IDENTITY, access, actor=actor, now=now)
        values.update(_reveal(family, p, ["languages"], access, actor=actor, now=now))
        if access.contact and p.role is PersonRole.guardian:
            values.update(_reveal(family, p, CONTACT, access, actor=actor, now=now))
        out.append({"id": p.id, "role": p.role.value, "role_label": "Kind" if p.role is PersonRole.child else
                    "Erwachsene(r)", "has_custody": p.has_custody, "values": values})
    return out


def _answers(case: Case, family: Family, access: Access, *, actor: Any, now: datetime) -> dict[str, Any]:
    intake = db.session.scalar(sa.select(CaseIntake).where(CaseIntake.case_id == case.id))
    if intake is None:
        return {}
    health = intake.health_answers_ct is not None
    column = "health_answers" if health else "situation_answers"
    purpose = Purpose.health_data_sharing if health else None
    answers = _reveal(family, intake, [column], access, actor=actor, now=now, purpose=purpose)[column]
    observation = _reveal(family, intake, ["observation"], access, actor=actor, now=now)["observation"]
    denied = answers if isinstance(answers, Denied) else None
    values = json.loads(answers) if isinstance(answers, str) else None
    return {"category": DataCategory.health if health else DataCategory.family_situation, "values": values,
            "rows": cat.answer_rows(values) if values else [], "denied": denied, "observation": observation}


def _escalation(case: Case, family: Family, actor: Any, now: datetime) -> dict[str, Any] | None:
    if case.escalation_proposed_by_id is None:
        return None
    names = queries.user_names({case.escalation_proposed_by_id, case.escalated_by_id})
    reader = (perms.may_propose_escalation(actor, case)
              or (case.state is CaseState.escalated and actor.agency_id == case.escalated_to_agency_id))
    justification: Any = Denied("not_involved")
    if reader:
        justification = reveal(family, case, ["escalation_justification"], actor=actor, purpose=Purpose.team_review,
                               now=now, legal_basis=LegalBasis.child_welfare_8a,
                               on_denial="mark")["escalation_justification"]
    return {"proposed_by": names.get(case.escalation_proposed_by_id), "proposed_dt": case.escalation_proposed_dt,
            "to_agency": queries.agency_names({case.escalated_to_agency_id}).get(case.escalated_to_agency_id),
            "escalated_by": names.get(case.escalated_by_id), "escalated_dt": case.escalated_dt,
            "legal_basis": LABELS[LegalBasis.child_welfare_8a] if case.escalated_dt else None,
            "justification": justification}


def consents(family: Family) -> list[dict[str, Any]]:
    """Consent records of the family: metadata only (no personal values)."""
    recs = list(db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.family_id == family.id)
                                   .order_by(ConsentRecord.obtained_dt.desc())))
    agencies = queries.agency_names()
    templates = {t.id: t for t in db.session.scalars(sa.select(ConsentTemplate).where(
        ConsentTemplate.id.in_({r.template_id for r in recs})))} if recs else {}
    wf = WORKFLOWS["consent"]
    return [{"id": r.id, "state": r.state.value, "state_label": wf.state_label(r.state),
             "template": f"{templates[r.template_id].title} (Fassung {templates[r.template_id].version})",
             "purposes": [LABELS[Purpose(p)] for p in r.purposes],
             "categories": [LABELS[DataCategory(c)] for c in r.categories],
             "recipients": sorted(agencies.get(uuid.UUID(a), "?") for a in r.recipient_agency_ids),
             "channel": r.channel.value, "obtained_dt": r.obtained_dt, "valid_until": r.valid_until,
             "withdrawn_dt": r.withdrawn_dt} for r in recs]


def timeline(case: Case) -> list[dict[str, Any]]:
    """History rows of the case plus the steps that are not transitions (intake, four-eyes, proposal)."""
    rows = list(db.session.scalars(sa.select(TransitionHistory).where(
        TransitionHistory.workflow == "case", TransitionHistory.object_id == case.id)
        .order_by(TransitionHistory.occurred_dt, TransitionHistory.id)))
    names = queries.user_names({r.actor_id for r in rows} | {case.opened_by_id, case.intake_confirmed_by_id,
                                                               case.escalation_proposed_by_id})
    entries = [{"dt": case.created_dt, "label": N_("Fall aufgenommen"), "actor": names.get(case.opened_by_id),
                "trigger": None, "from": None, "to": None, "reason": None}]
    if case.intake_confirmed_dt:
        entries.append({"dt": case.intake_confirmed_dt, "label": N_("Screening bestätigt (Vier-Augen-Prinzip)"),
                        "actor": names.get(case.intake_confirmed_by_id), "trigger": None, "from": None, "to": None,
                        "reason": None})
    if case.escalation_proposed_dt:
        entries.append({"dt": case.escalation_proposed_dt, "label": N_("Übergabe an das Jugendamt vorgeschlagen"),
                        "actor": names.get(case.escalation_proposed_by_id), "trigger": None, "from": None,
                        "to": None, "reason": None})
    for r in rows:
        entries.append({"dt": r.occurred_dt, "label": CASE.trigger_label(r.trigger), "actor": names.get(r.actor_id),
                        "trigger": r.trigger, "from": CASE.state_label(r.from_state),
                        "to": CASE.state_label(r.to_state), "from_state": r.from_state, "to_state": r.to_state,
                        "reason": r.reason})
    return sorted(entries, key=lambda e: e["dt"])


def actions(case: Case, actor: Any, now: datetime) -> dict[str, Any]:
    """The buttons: permitted triggers, plus the steps that are not triggers."""
    triggers = permitted_triggers(CASE, case, actor=actor, now=now, lotse=ASKED, closing_reason=ASKED)
    pending = case.state is CaseState.consent_pending
    return {
        "triggers": [{"trigger": t, "label": CASE.trigger_label(t)} for t in triggers],
        "record_consent": pending and perms.is_origin_intake(actor, case)
        and active_team_consent(case.family_id, now) is None,
        "confirm_intake": pending and case.four_eyes_required and case.intake_confirmed_dt is None
        and perms.may_confirm_intake(actor, case),
        "awaiting_confirmation": pending and case.four_eyes_required and case.intake_confirmed_dt is None,
        "propose_escalation": case.state in CASE.open_states and case.escalation_proposed_by_id is None
        and perms.may_propose_escalation(actor, case),
    }


def case_detail(case: Case, actor: Any, now: datetime) -> dict[str, Any]:
    """Everything the detail page and the API show, as this viewer may see it."""
    family = db.session.get(Family, case.family_id)
    access = access_for(case, family, actor)
    agencies = queries.agency_names({case.origin_agency_id})
    lotse = queries.user_names({case.lotse_user_id}).get(case.lotse_user_id)
    own = actor.agency_id == case.origin_agency_id
    return {
        "case": case, "case_number": family.case_number,
        "channel_label": cat.CHANNEL_LABELS[case.channel], "state_label": CASE.state_label(case.state),
        "origin_agency": agencies.get(case.origin_agency_id),
        "age_phase_label": cat.AGE_PHASE_LABELS.get(case.age_phase) if case.age_phase else None,
        "needs": [cat.NEED_LABELS[cat.Need(n)] for n in case.needs],
        "team_summary": case.team_summary if (own or case.reached_team_dt) else None,
        "lotse": lotse,
        "closing_reason_label": CLOSING_REASON_LABELS_DE[case.closing_reason] if case.closing_reason else None,
        "persons": _persons(family, access, actor=actor, now=now) if access.persons else None,
        "contact": access.contact,
        "answers": _answers(case, family, access, actor=actor, now=now) if access.persons else None,
        "escalation": _escalation(case, family, actor, now),
        "consents": consents(family),
        "duplicates": _duplicates(case, actor),
        "history": timeline(case),
        "actions": actions(case, actor, now),
    }


def _duplicates(case: Case, actor: Any) -> list[str]:
    """Case numbers of possibly identical families, only where the viewer may see a case of them."""
    if not case.possible_duplicate_family_ids:
        return []
    ids = [uuid.UUID(i) for i in case.possible_duplicate_family_ids]
    q = (sa.select(Family.case_number).join(Case, Case.family_id == Family.id)
         .where(Family.id.in_(ids), queries.visible_clause(actor)).distinct())
    return sorted(db.session.scalars(q))
