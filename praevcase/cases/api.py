"""API: cases and intake channels (the same operations as the pages, same schemas, same reveal)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from flask_smorest import Blueprint

from praevcase.api import ProblemOut
from praevcase.api import page_offset
from praevcase.cases import catalogue as cat
from praevcase.cases import detail
from praevcase.cases import operations as ops
from praevcase.cases import queries
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.models import Case
from praevcase.cases.permissions import CASES_ACT
from praevcase.cases.permissions import CASES_INTAKE
from praevcase.cases.permissions import CASES_VIEW
from praevcase.cases.schemas import BirthClinicIntakeIn
from praevcase.cases.schemas import CaseConsentIn
from praevcase.cases.schemas import CaseDetailOut
from praevcase.cases.schemas import CaseListArgs
from praevcase.cases.schemas import CaseOut
from praevcase.cases.schemas import EscalationProposalIn
from praevcase.cases.schemas import GeneralIntakeIn
from praevcase.cases.schemas import IntakeBaseIn
from praevcase.cases.schemas import JobcenterIntakeIn
from praevcase.cases.schemas import KitaExamIntakeIn
from praevcase.cases.schemas import TransitionIn
from praevcase.cases.schemas import VersionIn
from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.permissions import requires
from praevcase.privacy.models import Family
from praevcase.privacy.vault import Denied
from praevcase.tenants.models import Tenant

blp = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases",
                description="Fälle und Erstkontakte (Jobcenter, Geburtsklinik, Kita-Untersuchung, weitere Zugänge)")

_CONFLICT = {"schema": ProblemOut, "description": "stale version (code stale), refused transition "
                                                  "(transition_refused) or possible duplicate family"}


def _visible(view: Callable[..., Any]) -> Callable[..., Any]:
    """404 for a case the caller may not see — before the body is even validated."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        case = db.session.get(Case, kwargs["case_id"])
        if case is None or not queries.can_see(g.user, case):
            raise NotFound()
        return view(*args, **kwargs)

    return wrapper


def _out(case: Case, number: str | None = None) -> dict[str, Any]:
    number = number or db.session.get(Family, case.family_id).case_number
    fields = {k: getattr(case, k) for k in CaseOut().fields if hasattr(case, k)}
    return {**fields, "case_number": number, "channel_label": cat.CHANNEL_LABELS[case.channel],
            "state_label": detail.CASE.state_label(case.state)}


def _plain(value: Any) -> Any:
    return None if isinstance(value, Denied) else value


def _denied(values: dict[str, Any]) -> str | None:
    return next((v.reason for v in values.values() if isinstance(v, Denied)), None)


def _detail(case: Case) -> dict[str, Any]:
    view = detail.case_detail(case, g.user, utcnow())
    persons = None
    if view["persons"] is not None:
        persons = [{"id": p["id"], "role": p["role"], "has_custody": p["has_custody"], "denied": _denied(p["values"]),
                    **{k: _plain(v) for k, v in p["values"].items()}} for p in view["persons"]]
    answers = view["answers"]
    if answers:
        obs = answers["observation"]
        denied = answers["denied"]
        answers = {"category": answers["category"].value, "values": answers["values"],
                   "denied": denied.reason if denied is not None else None, "observation": _plain(obs),
                   "observation_denied": obs.reason if isinstance(obs, Denied) else None}
    esc = view["escalation"]
    return {**_out(case, view["case_number"]), "team_summary": view["team_summary"], "persons": persons,
            "answers": answers or None,
            "escalation_justification": _plain(esc["justification"]) if esc else None,
            "consents": view["consents"],
            "history": [{**e, "occurred_dt": e["dt"], "from_state": e.get("from_state"),
                         "to_state": e.get("to_state")} for e in view["history"]],
            "permitted_triggers": [t["trigger"] for t in view["actions"]["triggers"]],
            "possible_duplicates": view["duplicates"]}


@blp.route("/")
@requires(CASES_VIEW)
@blp.arguments(CaseListArgs, location="query")
@blp.paginate()
@blp.response(200, CaseOut(many=True))
def list_cases(args: dict[str, Any], pagination_parameters: Any):
    """Cases the caller may see (pseudonymous metadata), newest first; filter by ``state``."""
    total, rows = queries.visible_cases(g.user, state=args.get("state"), offset=page_offset(pagination_parameters),
                                        limit=pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return [_out(c, n) for c, n in rows]


@blp.route("/<uuid:case_id>")
@requires(CASES_VIEW)
@_visible
@blp.response(200, CaseDetailOut)
def get_case(case_id: uuid.UUID):
    """One case as the caller may see it: names and answers only where the consent (or § 8a) allows."""
    return _detail(db.session.get(Case, case_id))


def _open(channel: IntakeChannel | None, schema: type[IntakeBaseIn], data: dict[str, Any]) -> dict[str, Any]:
    tenant = db.session.get(Tenant, g.user.tenant_id)
    case = ops.open_case(tenant, channel or data["channel"], data, schema.ANSWER_FIELDS, actor=g.user, now=utcnow())
    return _out(case)


@blp.route("/intake/jobcenter", methods=["POST"])
@requires(CASES_INTAKE)
@blp.arguments(JobcenterIntakeIn)
@blp.response(201, CaseOut)
@blp.alt_response(409, **_CONFLICT)
def open_jobcenter(data: dict[str, Any]):
    """Open a case from a Jobcenter observation."""
    return _open(IntakeChannel.jobcenter_observation, JobcenterIntakeIn, data)


@blp.route("/intake/birth-clinic", methods=["POST"])
@requires(CASES_INTAKE)
@blp.arguments(BirthClinicIntakeIn)
@blp.response(201, CaseOut)
@blp.alt_response(409, **_CONFLICT)
def open_birth_clinic(data: dict[str, Any]):
    """Open a case from a birth-clinic screening; a second professional confirms (four-eyes)."""
    return _open(IntakeChannel.birth_clinic_screening, BirthClinicIntakeIn, data)


@blp.route("/intake/kita-exam", methods=["POST"])
@requires(CASES_INTAKE)
@blp.arguments(KitaExamIntakeIn)
@blp.response(201, CaseOut)
@blp.alt_response(409, **_CONFLICT)
def open_kita_exam(data: dict[str, Any]):
    """Open a case from a Kita entry exam of the Gesundheitsamt (health data)."""
    return _open(IntakeChannel.kita_entry_exam, KitaExamIntakeIn, data)


@blp.route("/intake/general", methods=["POST"])
@requires(CASES_INTAKE)
@blp.arguments(GeneralIntakeIn)
@blp.response(201, CaseOut)
@blp.alt_response(409, **_CONFLICT)
def open_general(data: dict[str, Any]):
    """Open a case from another contact (FamoS, welcome visit, Familienbüro, school entry exam, …)."""
    return _open(None, GeneralIntakeIn, data)


@blp.route("/<uuid:case_id>/transitions", methods=["POST"])
@requires(CASES_ACT)
@_visible
@blp.arguments(TransitionIn)
@blp.response(200, CaseOut)
@blp.alt_response(409, **_CONFLICT)
def fire(data: dict[str, Any], case_id: uuid.UUID):
    """Fire a trigger of the case workflow (``permitted_triggers`` of the detail lists yours)."""
    return _out(ops.apply_action(ops.lock_case(case_id, g.user), data, actor=g.user, now=utcnow()))


@blp.route("/<uuid:case_id>/consent", methods=["POST"])
@requires(CASES_ACT)
@_visible
@blp.arguments(CaseConsentIn)
@blp.response(200, CaseOut)
@blp.alt_response(409, **_CONFLICT)
def record_consent(data: dict[str, Any], case_id: uuid.UUID):
    """Record the parents' later decision (given or refused) for a case waiting for consent."""
    return _out(ops.record_case_consent(ops.lock_case(case_id, g.user), data, actor=g.user, now=utcnow()))


@blp.route("/<uuid:case_id>/intake-confirmation", methods=["POST"])
@requires(CASES_ACT)
@_visible
@blp.arguments(VersionIn)
@blp.response(200, CaseOut)
@blp.alt_response(409, **_CONFLICT)
def confirm_intake(data: dict[str, Any], case_id: uuid.UUID):
    """Four-eyes confirmation of a birth-clinic screening by a second professional of the same agency."""
    return _out(ops.confirm_intake(ops.lock_case(case_id, g.user), actor=g.user, now=utcnow(),
                                   expected_version=data["version"]))


@blp.route("/<uuid:case_id>/escalation-proposal", methods=["POST"])
@requires(CASES_ACT)
@_visible
@blp.arguments(EscalationProposalIn)
@blp.response(200, CaseOut)
@blp.alt_response(409, **_CONFLICT)
def propose_escalation(data: dict[str, Any], case_id: uuid.UUID):
    """Propose the handover to the Jugendamt (§ 8a SGB VIII); a second person fires ``escalate``."""
    return _out(ops.propose_escalation(ops.lock_case(case_id, g.user), data, actor=g.user, now=utcnow()))
