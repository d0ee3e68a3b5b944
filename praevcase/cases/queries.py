"""Read side: which cases a user may see and list (pseudonymous metadata only; no reveal here).

Who sees a case (anything else: 404):
- users of the agency that opened it (intake, team member, coordinator roles);
- team members and coordinators once the case reached the team (consent confirmed) — they
  see metadata and the team summary; names only where the consent names their agency;
- after an escalation, users of the Jugendamt it was handed to (§ 8a SGB VIII).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.cases.models import Case
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.i18n import N_
from praevcase.permissions import effective_roles
from praevcase.privacy.models import Family
from praevcase.tenants.models import Agency
from workflows.case import CaseState

CASE_ROLES = frozenset({Role.intake, Role.team_member, Role.coordinator})
TEAM_ROLES = frozenset({Role.team_member, Role.coordinator})
TEAM_STATES = (CaseState.ready_for_review, CaseState.on_agenda, CaseState.in_support)


def can_see(actor: Any, case: Case) -> bool:
    """The Python twin of :func:`visible_clause` (a test keeps them in agreement)."""
    roles = effective_roles(actor)
    if not roles & CASE_ROLES or actor.tenant_id != case.tenant_id:
        return False
    if actor.agency_id == case.origin_agency_id:
        return True
    if case.state is CaseState.escalated and actor.agency_id == case.escalated_to_agency_id:
        return True
    return bool(roles & TEAM_ROLES) and case.reached_team_dt is not None


def visible_clause(actor: Any) -> sa.ColumnElement[bool]:
    """SQL condition: cases *actor* may see (the tenant filter is added by praevcase.tenancy)."""
    roles = effective_roles(actor)
    if not roles & CASE_ROLES:
        return sa.false()
    conditions = [Case.origin_agency_id == actor.agency_id,
                  sa.and_(Case.state == CaseState.escalated, Case.escalated_to_agency_id == actor.agency_id)]
    if roles & TEAM_ROLES:
        conditions.append(Case.reached_team_dt.is_not(None))
    return sa.or_(*conditions)


#: Rows a section of the list page shows at first; the whole section is paged by PAGE_SIZE
SECTION_LIMIT = 25
PAGE_SIZE = 100


def _rows(*where: Any, order: Any = None, limit: int | None = None, offset: int = 0) -> dict[str, Any]:
    """One page of a section (``rows``) and how many cases the section has (``total``)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(*where)) or 0
    q = (sa.select(Case, Family.case_number).join(Family, Family.id == Case.family_id)
         .where(*where).order_by(order if order is not None else Case.created_dt.desc(), Case.id)
         .limit(limit or SECTION_LIMIT).offset(offset))
    return {"total": total, "rows": [(c, n) for c, n in db.session.execute(q)] if total > offset else []}


def visible_cases(actor: Any, *, state: CaseState | None = None, offset: int = 0,
                  limit: int | None = None) -> tuple[int, list[tuple[Case, str]]]:
    """(count, page) of the cases *actor* may see, newest first (the API list)."""
    where = [visible_clause(actor)]
    if state is not None:
        where.append(Case.state == state)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(*where)) or 0
    q = (sa.select(Case, Family.case_number).join(Family, Family.id == Case.family_id).where(*where)
         .order_by(Case.created_dt.desc(), Case.id).offset(offset))
    if limit is not None:
        q = q.limit(limit)
    return total, [(c, n) for c, n in db.session.execute(q)]


def sections_for(actor: Any, *, only: str | None = None, page: int = 1) -> list[dict[str, Any]]:
    """The list page: one section per thing the actor's roles do with cases.

    Each section shows its first SECTION_LIMIT cases and its total; ``only`` (a section key) pages
    through that one section, PAGE_SIZE cases a page. A Kreis has thousands of accompanied families.
    """
    roles = effective_roles(actor)
    specs: list[tuple[str, str, tuple[Any, ...], Any]] = []
    if Role.intake in roles:
        specs.append(("confirm", N_("Zur Bestätigung (Vier-Augen-Prinzip)"), (
            Case.origin_agency_id == actor.agency_id, Case.four_eyes_required.is_(True),
            Case.intake_confirmed_dt.is_(None), Case.opened_by_id != actor.id,
            Case.state == CaseState.consent_pending), None))
        specs.append(("opened", N_("Von Ihrer Stelle aufgenommen"), (Case.origin_agency_id == actor.agency_id,), None))
    if Role.team_member in roles:
        specs.append(("lotse", N_("Meine Familien (Lotsin/Lotse)"),
                      (Case.lotse_user_id == actor.id, Case.state == CaseState.in_support), None))
    if roles & TEAM_ROLES:
        for state, title in ((CaseState.ready_for_review, N_("Bereit für das Schnittstellengespräch")),
                             (CaseState.on_agenda, N_("Auf der Tagesordnung")),
                             (CaseState.in_support, N_("In Begleitung"))):
            if state is CaseState.in_support and Role.coordinator not in roles:
                continue
            specs.append((state.value, title, (Case.state == state, Case.reached_team_dt.is_not(None)),
                          Case.reached_team_dt))
    if roles & CASE_ROLES:
        specs.append(("escalated", N_("An Ihre Stelle übergeben (§ 8a SGB VIII)"), (
            Case.state == CaseState.escalated, Case.escalated_to_agency_id == actor.agency_id), None))
    if only is not None:
        specs = [spec for spec in specs if spec[0] == only]
        if not specs:
            raise NotFound()
    sections = []
    for key, title, where, order in specs:
        page_kw = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE} if only else {}
        sections.append({"key": key, "title": title, **_rows(*where, order=order, **page_kw)})
    return [s for s in sections if s["total"] or only or s["key"] in ("opened", "lotse", "ready_for_review")]


def user_names(ids: set[Any]) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {i: n for i, n in db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids)))}


def agency_names(ids: set[Any] | None = None) -> dict[Any, str]:
    q = sa.select(Agency.id, Agency.name)
    if ids is not None:
        q = q.where(Agency.id.in_({i for i in ids if i is not None}))
    return {i: n for i, n in db.session.execute(q)}


def team_members() -> list[User]:
    """Active members of the prevention team of the tenant (Lotse candidates)."""
    users = db.session.scalars(sa.select(User).where(User.is_active.is_(True)).order_by(User.display_name))
    return [u for u in users if Role.team_member in u.roles]


def youth_offices() -> list[Agency]:
    from praevcase.tenants.models import AgencyKind

    return list(db.session.scalars(sa.select(Agency).where(Agency.kind == AgencyKind.jugendamt,
                                                           Agency.is_active.is_(True)).order_by(Agency.name)))
