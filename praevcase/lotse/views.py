"""The Lotse workspace: "Meine Familien", one family's workspace with contacts, referrals and case steps."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from praevcase.accounts.models import Role
from praevcase.cases import detail as case_detail
from praevcase.cases import operations as case_ops
from praevcase.cases import queries as case_queries
from praevcase.cases.models import ASKED
from praevcase.cases.models import Case
from praevcase.cases.schemas import TransitionIn
from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.lotse import operations as ops
from praevcase.lotse import queries
from praevcase.lotse.models import SETTING_LABELS
from praevcase.lotse.permissions import LOTSE_WORKSPACE
from praevcase.lotse.permissions import may_log_contact
from praevcase.lotse.permissions import may_open_workspace
from praevcase.lotse.schemas import ContactIn
from praevcase.offers import catalogue as offer_cat
from praevcase.offers import queries as offer_queries
from praevcase.permissions import requires
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import reveal_many
from praevcase.referrals import operations as referral_ops
from praevcase.referrals import queries as referral_queries
from praevcase.referrals.permissions import may_propose
from praevcase.referrals.schemas import ProposalIn
from praevcase.schemas import form_data
from praevcase.statemachine import permitted_triggers
from workflows.case import CLOSING_REASON_LABELS_DE
from workflows.case import CaseState
from workflows.case import ClosingReason

bp = Blueprint("lotse", __name__, url_prefix="/lotse")

#: Case steps offered in the workspace (the others belong to the session or the intake)
CASE_STEPS = ("request_rereview", "hand_over_lotse", "close")
IDENTITY = ["given_name", "family_name", "birth_date", "languages"]
CONTACT = ["address", "phone"]


def _workspace_case(case_id: uuid.UUID) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not case_queries.can_see(g.user, case) or not may_open_workspace(g.user, case):
        raise NotFound()
    return case


@bp.route("/")
@requires(LOTSE_WORKSPACE)
def index():
    now = utcnow()
    mine = queries.my_families(g.user, now) if Role.team_member in g.user.roles else []
    overview = []
    if Role.coordinator in g.user.roles:
        rows = db.session.execute(sa.select(Case, Family.case_number).join(Family, Family.id == Case.family_id)
                                  .where(Case.state == CaseState.in_support).order_by(Family.case_number))
        rows = list(rows)
        contacts = queries.latest_contacts([c.id for c, _n in rows])
        lotsen = case_queries.user_names({c.lotse_user_id for c, _n in rows})
        overview = [{"case": c, "case_number": n, "lotse": lotsen.get(c.lotse_user_id),
                     "last_contact": contacts[c.id].contact_date if c.id in contacts else None,
                     "next_step_due": contacts[c.id].next_step_due if c.id in contacts else None} for c, n in rows]
    return render_template("lotse/index.html", families=mine, overview=overview, today=now.date())


def _persons(family: Family, access: Any, now) -> list[dict[str, Any]]:
    rows = list(db.session.scalars(sa.select(Person).where(Person.family_id == family.id)
                                   .order_by(Person.role, Person.created_dt, Person.id)))
    kw = {"actor": g.user, "purpose": access.purpose, "now": now, "legal_basis": access.legal_basis}
    values = reveal_many([(family, p) for p in rows], IDENTITY, **kw) if rows else []
    guardians = [(i, p) for i, p in enumerate(rows) if access.contact and p.role is PersonRole.guardian]
    contact = reveal_many([(family, p) for _i, p in guardians], CONTACT, **kw) if guardians else []
    for (i, _p), v in zip(guardians, contact, strict=True):
        values[i].update(v)
    return [{"role_label": "Kind" if p.role is PersonRole.child else "Erwachsene(r)", "has_custody": p.has_custody,
             "values": v} for p, v in zip(rows, values, strict=True)]


@bp.route("/<uuid:case_id>")
@requires(LOTSE_WORKSPACE)
def family(case_id: uuid.UUID):
    case = _workspace_case(case_id)
    fam = db.session.get(Family, case.family_id)
    now = utcnow()
    access = case_detail.access_for(case, fam, g.user)
    triggers = [t for t in permitted_triggers(case_detail.CASE, case, actor=g.user, now=now, lotse=ASKED,
                                              closing_reason=ASKED) if t in CASE_STEPS]
    referrals = referral_queries.views(referral_queries.for_cases([case.id])[case.id], g.user, now)
    phase = case.age_phase.value if case.age_phase else None
    return render_template(
        "lotse/family.html", case=case, case_number=fam.case_number, now=now,
        state_label=case_detail.CASE.state_label(case.state), persons=_persons(fam, access, now),
        contact_shown=access.contact,
        contacts=queries.contact_log(case, fam, g.user, access.purpose, now, legal_basis=access.legal_basis),
        referrals=referrals, trigger_options=referral_queries.trigger_options,
        rereview=queries.rereview_dates([case.id]).get(case.id),
        age_phase_label=offer_cat.AGE_PHASE_LABELS.get(case.age_phase) if case.age_phase else None,
        needs=[case_detail.cat.NEED_LABELS.get(case_detail.cat.Need(n), n) for n in case.needs],
        lotse=case_queries.user_names({case.lotse_user_id}).get(case.lotse_user_id),
        case_triggers=[{"trigger": t, "label": case_detail.CASE.trigger_label(t)} for t in triggers],
        may_log=may_log_contact(g.user, case) and case.state is CaseState.in_support,
        may_propose=may_propose(g.user, case) and case.state in referral_ops.PROPOSAL_STATES,
        offer_options=offer_queries.choices(phase), type_options=offer_cat.options(offer_cat.OFFER_TYPE_LABELS),
        setting_options=[(k.value, v) for k, v in SETTING_LABELS.items()],
        closing_reasons=[(r.value, label) for r, label in CLOSING_REASON_LABELS_DE.items()
                         if r is not ClosingReason.consent_withdrawn],
        lotse_options=[(str(u.id), f"{u.display_name} ({u.agency.name})") for u in case_queries.team_members()
                       if u.id != case.lotse_user_id],
        errors=None, form=None)


@bp.route("/<uuid:case_id>/kontakt", methods=["POST"])
@requires(LOTSE_WORKSPACE)
def contact(case_id: uuid.UUID):
    case = _workspace_case(case_id)
    schema = ContactIn()
    data = schema.load(form_data(request.form, schema))
    ops.log_contact(case, data, actor=g.user, now=utcnow())
    flash(_("Der Kontakt wurde im Verlauf festgehalten."), "success")
    return redirect(url_for(".family", case_id=case_id) + "#kontakte")


@bp.route("/<uuid:case_id>/vorschlag", methods=["POST"])
@requires(LOTSE_WORKSPACE)
def propose(case_id: uuid.UUID):
    case = _workspace_case(case_id)
    schema = ProposalIn()
    data = schema.load(form_data(request.form, schema))
    offer = referral_ops.active_offer(data["offer_id"]) if data.get("offer_id") else None
    referral_ops.propose(case, offer=offer, offer_type=data.get("offer_type"), actor=g.user, now=utcnow())
    flash(_("Das Angebot wurde als Vermittlung vorgeschlagen."), "success")
    return redirect(url_for(".family", case_id=case_id) + "#vermittlungen")


@bp.route("/<uuid:case_id>/aktion", methods=["POST"])
@requires(LOTSE_WORKSPACE)
def act(case_id: uuid.UUID):
    _workspace_case(case_id)
    schema = TransitionIn()
    data = schema.load(form_data(request.form, schema))
    if data["trigger"] not in CASE_STEPS:
        raise NotFound()
    case = case_ops.apply_action(case_ops.lock_case(case_id, g.user), data, actor=g.user, now=utcnow())
    flash(_("„%(action)s“ wurde ausgeführt. Neuer Stand: %(state)s.",
            action=_(case_detail.CASE.trigger_label(data["trigger"])),
            state=_(case_detail.CASE.state_label(case.state))),
          "success")
    if may_open_workspace(g.user, case):
        return redirect(url_for(".family", case_id=case_id))
    return redirect(url_for(".index"))
