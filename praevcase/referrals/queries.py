"""Read side of referrals: lists per case and the view of a referral as one viewer may see it.

The sealed notes (provider feedback, the family's view) are read with vault.reveal_many for the
purpose ``referral``; a viewer whose agency the consent does not name sees the marker instead.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consent.scopes import Purpose
from praevcase.cases.models import Case
from praevcase.cases.queries import visible_clause
from praevcase.extensions import db
from praevcase.offers.catalogue import OFFER_TYPE_LABELS
from praevcase.privacy.models import Family
from praevcase.privacy.vault import Denied
from praevcase.privacy.vault import reveal_many
from praevcase.referrals.models import ASKED
from praevcase.referrals.models import Referral
from praevcase.statemachine import permitted_triggers
from praevcase.tenants.models import Agency
from workflows import WORKFLOWS
from workflows.case import CaseState
from workflows.referral import ReferralState

REFERRAL = WORKFLOWS["referral"]
NOTES = ["provider_feedback", "family_view"]
OPEN_STATES = tuple(s for s in ReferralState if s not in REFERRAL.terminal)


def for_cases(case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Referral]]:
    """Referrals of the given cases, oldest first, in one query."""
    out: dict[uuid.UUID, list[Referral]] = defaultdict(list)
    if case_ids:
        q = sa.select(Referral).where(Referral.case_id.in_(case_ids)).order_by(Referral.created_dt, Referral.id)
        for r in db.session.scalars(q):
            out[r.case_id].append(r)
    return out


def visible(actor: Any, *, case_id: uuid.UUID | None = None, state: ReferralState | None = None) -> list[Referral]:
    """Referrals of the cases *actor* may see (the API list)."""
    q = sa.select(Referral).join(Case, Case.id == Referral.case_id).where(visible_clause(actor))
    if case_id is not None:
        q = q.where(Referral.case_id == case_id)
    if state is not None:
        q = q.where(Referral.state == state)
    return list(db.session.scalars(q.order_by(Referral.created_dt.desc(), Referral.id)))


def triggers(referral: Referral, actor: Any, now: datetime) -> list[str]:
    """Buttons: permitted triggers; only ``cancel`` once the case left the Lotse's support."""
    allowed = permitted_triggers(REFERRAL, referral, actor=actor, now=now, provider=ASKED)
    if referral.case.state is not CaseState.in_support:
        allowed = [t for t in allowed if t == "cancel"]
    return allowed


def views(referrals: list[Referral], actor: Any, now: datetime, *, reveal_notes: bool = True,
          with_triggers: bool = True) -> list[dict[str, Any]]:
    """Referrals with labels, provider, case number and (where the consent allows) their notes.

    Families and provider agencies are read in one query each; the notes with reveal_many.
    """
    if not referrals:
        return []
    family_ids = {r.case.family_id for r in referrals}
    families = {f.id: f for f in db.session.scalars(sa.select(Family).where(Family.id.in_(family_ids)))}
    agency_ids = {r.provider_agency_id for r in referrals if r.provider_agency_id}
    agencies = dict(db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))).all()) \
        if agency_ids else {}
    with_notes = [r for r in referrals if reveal_notes and (r.provider_feedback_ct or r.family_view_ct)]
    revealed = reveal_many([(families[r.case.family_id], r) for r in with_notes], NOTES, actor=actor,
                           purpose=Purpose.referral, now=now) if with_notes else []
    notes = {r.id: v for r, v in zip(with_notes, revealed, strict=True)}
    out = []
    for r in referrals:
        values = notes.get(r.id, {})
        denied = next((v for v in values.values() if isinstance(v, Denied)), None)
        out.append({
            "referral": r, "id": r.id, "case_id": r.case_id, "case_number": families[r.case.family_id].case_number,
            "state": r.state, "state_label": REFERRAL.state_label(r.state), "version": r.version,
            "offer_id": r.offer_id, "offer_name": r.offer.name if r.offer else None, "offer_type": r.offer_type,
            "offer_type_label": OFFER_TYPE_LABELS[r.offer_type],
            "provider": agencies.get(r.provider_agency_id) or r.provider_name,
            "provider_agency_id": r.provider_agency_id, "agenda_item_id": r.agenda_item_id,
            "created_dt": r.created_dt, "offered_dt": r.offered_dt, "answered_dt": r.answered_dt,
            "requested_dt": r.requested_dt, "waitlisted_dt": r.waitlisted_dt, "started_dt": r.started_dt,
            "ended_dt": r.ended_dt,
            "provider_feedback": None if denied is not None else values.get("provider_feedback"),
            "family_view": None if denied is not None else values.get("family_view"),
            "notes_denied": denied,
            "permitted_triggers": triggers(r, actor, now) if with_triggers else [],
        })
    return out


def trigger_options(view: dict[str, Any]) -> list[dict[str, str]]:
    return [{"trigger": t, "label": REFERRAL.trigger_label(t)} for t in view["permitted_triggers"]]
