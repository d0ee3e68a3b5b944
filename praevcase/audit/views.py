"""Audit-log pages for the dpo and the admin: metadata only, and every look is itself audited (SR-17)."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import g
from flask import render_template
from flask import request
from marshmallow import ValidationError

from consent.scopes import LegalBasis
from consent.scopes import Purpose
from praevcase.accounts.models import ROLE_LABELS
from praevcase.accounts.models import User
from praevcase.audit.operations import record
from praevcase.audit.permissions import AUDIT_LOG
from praevcase.audit.queries import ACTION_LABELS
from praevcase.audit.queries import action_label
from praevcase.audit.queries import events_query
from praevcase.audit.queries import paginate
from praevcase.audit.schemas import OUTCOME_LABELS
from praevcase.audit.schemas import AuditFilterIn
from praevcase.audit.verify import verify_app_chains
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.permissions import requires
from praevcase.schemas import form_data
from praevcase.tenants.models import Agency

bp = Blueprint("audit", __name__, url_prefix="/protokoll")

PER_PAGE = 50
PURPOSE_LABELS = {p.value: p.label for p in Purpose}
BASIS_LABELS = {b.value: b.label for b in LegalBasis}


def load_query(schema: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validate filter parameters from the query string; on errors, no filter and the messages."""
    try:
        return schema.load(form_data(request.args, schema)), None
    except ValidationError as err:
        return schema.load({}), err.messages


def agency_names() -> dict[uuid.UUID, str]:
    return {a.id: a.name for a in db.session.scalars(sa.select(Agency))}


def user_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def case_numbers(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    from praevcase.privacy.models import Family

    if not ids:
        return {}
    rows = db.session.execute(sa.select(Family.id, Family.case_number).where(Family.id.in_(ids)))
    return {r.id: r.case_number for r in rows}


def family_id_for(case_number: str) -> uuid.UUID | None:
    from praevcase.privacy.models import Family

    return db.session.scalar(sa.select(Family.id).where(Family.case_number == case_number.strip().upper()))


def roles_text(codes: str | None) -> str:
    if not codes:
        return ""
    labels = {r.value: label for r, label in ROLE_LABELS.items()}
    return ", ".join(labels.get(c, c) for c in codes.split(","))


@bp.route("/")
@requires(AUDIT_LOG)
def events():
    filters, errors = load_query(AuditFilterIn())
    family_id = None
    unknown_case = False
    if filters["case_number"]:
        family_id = family_id_for(filters["case_number"])
        unknown_case = family_id is None
    if unknown_case:
        page = paginate(db.session, events_query(g.user.tenant_id).where(sa.false()), page=1, per_page=PER_PAGE)
    else:
        q = events_query(g.user.tenant_id, action=filters["action"], outcome=filters["outcome"], family_id=family_id,
                         since=filters["since"], until=filters["until"])
        page = paginate(db.session, q, page=filters["page"], per_page=PER_PAGE)
    record(db.session, "audit.log.view", now=utcnow(), actor=g.user, family_ref=family_id,
           details={"filters": {k: str(v) for k, v in filters.items()
                                if v not in (None, "") and k not in ("page", "case_number")},
                    "page": page.page, "rows": len(page.items)})
    rows = page.items
    return render_template(
        "audit/events.html", page=page, filters=filters, errors=errors, unknown_case=unknown_case,
        agencies=agency_names(), users=user_names({e.actor_user_id for e in rows if e.actor_user_id}),
        cases=case_numbers({e.family_ref for e in rows if e.family_ref}), action_label=action_label,
        action_options=sorted(ACTION_LABELS.items(), key=lambda kv: kv[1]), outcome_labels=OUTCOME_LABELS,
        roles_text=roles_text, purpose_labels=PURPOSE_LABELS, basis_labels=BASIS_LABELS,
        query_args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.route("/kette", methods=["GET", "POST"])
@requires(AUDIT_LOG)
def verify():
    """"Kette prüfen": the tenant's chains, checked against the signed checkpoints."""
    if request.method == "GET":
        return render_template("audit/verify.html", report=None)
    report = verify_app_chains(db.session, tenant_id=g.user.tenant_id)
    record(db.session, "audit.verify", now=utcnow(), actor=g.user, outcome="ok" if report.intact else "failed",
           details={"chains": len(report.chains), "events": report.events, "broken": [c.chain for c in report.broken]})
    return render_template("audit/verify.html", report=report)

