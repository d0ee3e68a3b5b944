"""Read side of the Lotse workspace: "Meine Familien", one family's workspace, due dates for the feed.

The Lotse reads the family's names, contact data and the contact log for ``lotse_support``; the
coordinator reads for ``team_review`` (praevcase.cases.detail.access_for decides). Everything is
read for all families of a list at once (reveal_many, one query per table).
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from consent.scopes import Purpose
from praevcase.cases import catalogue as case_cat
from praevcase.cases.models import Case
from praevcase.extensions import db
from praevcase.lotse.models import SETTING_LABELS
from praevcase.lotse.models import Contact
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import Denied
from praevcase.privacy.vault import reveal_many
from praevcase.referrals import queries as referral_queries
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.schedule import local
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings
from workflows.case import CaseState
from workflows.referral import ReferralState

NOTES = ["summary", "next_step"]
NAMES = ["given_name", "family_name"]


def thresholds(tenant_id: uuid.UUID) -> dict[str, int]:
    settings = effective_settings(db.session.get(Tenant, tenant_id).settings)
    return settings["reminders"]


def latest_contacts(case_ids: list[uuid.UUID]) -> dict[uuid.UUID, Contact]:
    """The most recent contact of each case (one query)."""
    if not case_ids:
        return {}
    ranked = (sa.select(Contact, sa.func.row_number().over(
        partition_by=Contact.case_id, order_by=(Contact.contact_date.desc(), Contact.created_dt.desc()))
        .label("rn")).where(Contact.case_id.in_(case_ids)).subquery())
    latest = aliased(Contact, ranked)
    return {c.case_id: c for c in db.session.scalars(sa.select(latest).where(ranked.c.rn == 1))}


def rereview_dates(case_ids: list[uuid.UUID]) -> dict[uuid.UUID, date]:
    """The re-review date the team set at each case's most recent decision (one query)."""
    if not case_ids:
        return {}
    ranked = (sa.select(AgendaItem.case_id, AgendaItem.rereview_date, sa.func.row_number().over(
        partition_by=AgendaItem.case_id, order_by=AgendaItem.decided_dt.desc()).label("rn"))
        .where(AgendaItem.case_id.in_(case_ids), AgendaItem.decided_dt.is_not(None)).subquery())
    rows = db.session.execute(sa.select(ranked.c.case_id, ranked.c.rereview_date).where(ranked.c.rn == 1))
    return {case_id: day for case_id, day in rows if day is not None}


def _children(family_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Person]]:
    out: dict[uuid.UUID, list[Person]] = defaultdict(list)
    if family_ids:
        for p in db.session.scalars(sa.select(Person).where(Person.family_id.in_(family_ids),
                                                            Person.role == PersonRole.child)
                                    .order_by(Person.created_dt, Person.id)):
            out[p.family_id].append(p)
    return out


def _name(values: dict[str, Any]) -> Any:
    denied = next((v for v in values.values() if isinstance(v, Denied)), None)
    if denied is not None:
        return denied
    return " ".join(v for v in (values.get("given_name"), values.get("family_name")) if v)


def my_families(actor: Any, now: datetime) -> list[dict[str, Any]]:
    """The Lotse's families in support, with the next step, overdue items and what waits on the provider."""
    rows = list(db.session.execute(
        sa.select(Case, Family).join(Family, Family.id == Case.family_id)
        .where(Case.lotse_user_id == actor.id, Case.state == CaseState.in_support)
        .order_by(Case.lotse_assigned_dt, Case.id)))
    if not rows:
        return []
    limits = thresholds(actor.tenant_id)
    today = local(now).date()
    case_ids = [c.id for c, _f in rows]
    contacts = latest_contacts(case_ids)
    rereview = rereview_dates(case_ids)
    referrals = referral_queries.for_cases(case_ids)
    children = _children([f.id for _c, f in rows])
    families = {f.id: f for _c, f in rows}
    names = iter(reveal_many([(families[f.id], p) for _c, f in rows for p in children[f.id]], NAMES, actor=actor,
                             purpose=Purpose.lotse_support, now=now))
    noted = [(f, contacts[c.id]) for c, f in rows if c.id in contacts and contacts[c.id].next_step_ct is not None]
    steps = dict(zip([c.id for _f, c in noted], reveal_many(noted, ["next_step"], actor=actor,
                                                            purpose=Purpose.lotse_support, now=now), strict=True))
    out = []
    for case, family in rows:
        child_names = [_name(next(names)) for _p in children[family.id]]
        last = contacts.get(case.id)
        since = (last.contact_date if last else local(case.lotse_assigned_dt or now).date())
        waiting = [r for r in referrals[case.id] if r.state is ReferralState.requested and r.requested_dt
                   and r.requested_dt <= now - timedelta(days=limits["referral_not_started_days"])]
        due = last.next_step_due if last else None
        review = rereview.get(case.id)
        out.append({
            "case": case, "case_id": case.id, "case_number": family.case_number, "children": child_names,
            "age_phase_label": case_cat.AGE_PHASE_LABELS.get(case.age_phase) if case.age_phase else None,
            "needs": [case_cat.NEED_LABELS.get(case_cat.Need(n), n) for n in case.needs],
            "last_contact": last.contact_date if last else None,
            "days_without_contact": (today - since).days,
            "no_contact_overdue": (today - since).days > limits["lotse_no_contact_days"],
            "next_step": steps.get(last.id, {}).get("next_step") if last else None, "next_step_due": due,
            "next_step_overdue": due is not None and due < today,
            "open_referrals": sum(1 for r in referrals[case.id] if r.state in referral_queries.OPEN_STATES),
            "waiting_on_provider": len(waiting), "rereview_date": review,
            "rereview_due": review is not None and review <= today + timedelta(days=limits["rereview_notice_days"]),
        })
    out.sort(key=lambda f: (not (f["next_step_overdue"] or f["no_contact_overdue"] or f["waiting_on_provider"]
                                 or f["rereview_due"]), f["next_step_due"] or date.max))
    return out


def contact_log(case: Case, family: Family, actor: Any, purpose: Purpose, now: datetime,
                legal_basis: Any = None) -> list[dict[str, Any]]:
    """Every contact of the case, newest first, with summary and next step as *actor* may see them."""
    rows = list(db.session.scalars(sa.select(Contact).where(Contact.case_id == case.id)
                                   .order_by(Contact.contact_date.desc(), Contact.created_dt.desc())))
    values = reveal_many([(family, c) for c in rows], NOTES, actor=actor, purpose=purpose, now=now,
                         legal_basis=legal_basis) if rows else []
    from praevcase.cases.queries import user_names

    authors = user_names({c.author_id for c in rows})
    return [{"contact": c, "date": c.contact_date, "setting_label": SETTING_LABELS[c.setting],
             "author": authors.get(c.author_id), "summary": v["summary"], "next_step": v["next_step"],
             "next_step_due": c.next_step_due} for c, v in zip(rows, values, strict=True)]


def due_dates(user: Any, *, since: date) -> list[tuple[str, str, date, uuid.UUID, str]]:
    """(kind, uid, day, case id, case number) of the Lotse's open next steps and re-review dates."""
    rows = list(db.session.execute(sa.select(Case.id, Family.case_number).join(Family, Family.id == Case.family_id)
                                   .where(Case.lotse_user_id == user.id, Case.state == CaseState.in_support)))
    numbers = dict(rows)
    out = []
    for case_id, contact in latest_contacts(list(numbers)).items():
        if contact.next_step_due is not None and contact.next_step_due >= since:
            out.append(("next_step", f"naechster-schritt-{contact.id}@praevcase", contact.next_step_due, case_id,
                        numbers[case_id]))
    for case_id, day in rereview_dates(list(numbers)).items():
        if day >= since:
            out.append(("rereview", f"wiedervorlage-{case_id}-{day.isoformat()}@praevcase", day, case_id,
                        numbers[case_id]))
    return sorted(out, key=lambda r: r[2])
