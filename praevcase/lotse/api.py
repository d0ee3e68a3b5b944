"""API: the Lotse's contact log and "Meine Familien" (the same operations and reveal as the pages)."""
from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest import Blueprint

from praevcase.cases import detail as case_detail
from praevcase.cases.models import Case
from praevcase.cases.queries import can_see
from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.lotse import operations as ops
from praevcase.lotse import queries
from praevcase.lotse.permissions import LOTSE_WORKSPACE
from praevcase.lotse.permissions import may_open_workspace
from praevcase.lotse.schemas import ContactCreateIn
from praevcase.lotse.schemas import ContactListArgs
from praevcase.lotse.schemas import ContactOut
from praevcase.lotse.schemas import FamilyOut
from praevcase.permissions import requires
from praevcase.privacy.models import Family
from praevcase.privacy.vault import Denied

blp = Blueprint("lotse_api", __name__, url_prefix="/api/v1/contacts",
                description="Kontakte der Lotsin/des Lotsen mit der Familie und „Meine Familien“")


def _case(case_id: Any) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not can_see(g.user, case) or not may_open_workspace(g.user, case):
        raise NotFound()
    return case


def _plain(value: Any) -> Any:
    return None if isinstance(value, Denied) else value


def _contacts(case: Case) -> list[dict[str, Any]]:
    family = db.session.get(Family, case.family_id)
    access = case_detail.access_for(case, family, g.user)
    rows = queries.contact_log(case, family, g.user, access.purpose, utcnow(), legal_basis=access.legal_basis)
    out = []
    for r in rows:
        denied = next((v.reason for v in (r["summary"], r["next_step"]) if isinstance(v, Denied)), None)
        out.append({"id": r["contact"].id, "case_id": case.id, "contact_date": r["date"],
                    "setting": r["contact"].setting, "author": r["author"], "summary": _plain(r["summary"]),
                    "next_step": _plain(r["next_step"]), "next_step_due": r["next_step_due"], "denied": denied})
    return out


@blp.route("/")
@requires(LOTSE_WORKSPACE)
@blp.arguments(ContactListArgs, location="query")
@blp.response(200, ContactOut(many=True))
def list_contacts(args: dict[str, Any]):
    """Contacts of a case, newest first (the case's Lotse, or the coordinator)."""
    return _contacts(_case(args["case_id"]))


@blp.route("/", methods=["POST"])
@requires(LOTSE_WORKSPACE)
@blp.arguments(ContactCreateIn)
@blp.response(201, ContactOut)
def log_contact(data: dict[str, Any]):
    """Log a contact with the family (the case's Lotse); summary and next step are sealed."""
    case = _case(data["case_id"])
    contact = ops.log_contact(case, data, actor=g.user, now=utcnow())
    return next(c for c in _contacts(case) if c["id"] == contact.id)


@blp.route("/families")
@requires(LOTSE_WORKSPACE)
@blp.response(200, FamilyOut(many=True))
def my_families():
    """The caller's families as Lotse: next steps, overdue items, referrals waiting on a provider."""
    rows = queries.my_families(g.user, utcnow())
    return [{**f, "next_step": _plain(f["next_step"]), "children": [_plain(c) for c in f["children"]]}
            for f in rows]
