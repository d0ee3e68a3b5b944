"""Pages of the data-protection core.

For the dpo and the admin (metadata only, never case content): the consent log, a family's
data-protection overview, the subject-access report (dpo; HTML, PDF, JSON) and erasure with four
eyes. For staff: a family's consents, withdrawal in one step and a new, superseding consent.
"""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import flash
from flask import g
from flask import jsonify
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from consent.scopes import LABELS
from consent.scopes import ConsentState
from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.accounts.models import User
from praevcase.audit.operations import record
from praevcase.audit.queries import day_end
from praevcase.audit.queries import paginate
from praevcase.audit.views import load_query
from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.forms import load_form
from praevcase.permissions import can
from praevcase.permissions import requires
from praevcase.privacy import erasure
from praevcase.privacy import operations as ops
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import ErasureRequest
from praevcase.privacy.models import ErasureTombstone
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.pdf_report import report_pdf
from praevcase.privacy.permissions import CONSENT_LOG
from praevcase.privacy.permissions import CONSENT_READ
from praevcase.privacy.permissions import CONSENT_RECORD
from praevcase.privacy.permissions import CONSENT_WITHDRAW
from praevcase.privacy.permissions import ERASURE
from praevcase.privacy.permissions import SUBJECT_ACCESS
from praevcase.privacy.queries import consent_log_query
from praevcase.privacy.queries import family_by_case_number
from praevcase.privacy.queries import family_consents
from praevcase.privacy.queries import involved
from praevcase.privacy.queries import state_now
from praevcase.privacy.report import subject_access_report
from praevcase.privacy.schemas import CONSENT_CHANNELS
from praevcase.privacy.schemas import ERASURE_REASONS
from praevcase.privacy.schemas import WITHDRAWAL_CHANNELS
from praevcase.privacy.schemas import ConsentLogFilterIn
from praevcase.privacy.schemas import ConsentRecordIn
from praevcase.privacy.schemas import ErasureRequestIn
from praevcase.privacy.schemas import WithdrawIn
from praevcase.tenants.models import Agency

bp = Blueprint("privacy", __name__)

PER_PAGE = 50


def _family(family_id: uuid.UUID) -> Family:
    family = db.session.get(Family, family_id)  # tenant-scoped: another tenant's id is simply not found
    if family is None:
        raise NotFound()
    return family


def _staff_family(family_id: uuid.UUID) -> Family:
    family = _family(family_id)
    if not involved(g.user, family):
        raise NotFound()  # need to know: not involved looks like not there
    return family


def _agencies() -> dict[uuid.UUID, Agency]:
    return {a.id: a for a in db.session.scalars(sa.select(Agency).order_by(Agency.name))}


def _labels() -> dict[str, Any]:
    """Label lookups every consent page needs (agency names keyed by the id as text, as consents store it)."""
    return {"labels": {getattr(k, "value", k): v for k, v in LABELS.items()},
            "channel_labels": {c.value: t for c, t in CONSENT_CHANNELS.items()},
            "withdrawal_labels": WITHDRAWAL_CHANNELS,
            "agency_names": {str(a.id): a.name for a in _agencies().values()}}


def _consent_rows(records: list[ConsentRecord], now) -> list[dict[str, Any]]:
    templates = {t.id: t for t in db.session.scalars(
        sa.select(ConsentTemplate).where(ConsentTemplate.id.in_({r.template_id for r in records})))} if records else {}
    return [{"rec": r, "state": state_now(r, now), "template": templates.get(r.template_id)} for r in records]


# --- consent log and family overview (dpo, admin) -----------------------------------------------


@bp.route("/datenschutz/einwilligungen")
@requires(CONSENT_LOG)
def consent_log():
    filters, errors = load_query(ConsentLogFilterIn())
    now = utcnow()
    family = family_by_case_number(filters["case_number"]) if filters["case_number"] else None
    unknown_case = bool(filters["case_number"]) and family is None
    q = consent_log_query(now=now, family_id=family.id if family else None, purpose=filters["purpose"],
                          agency_id=filters["agency_id"], state=filters["state"], since=filters["since"],
                          until=filters["until"])
    if unknown_case:
        q = q.where(sa.false())
    page = paginate(db.session, q, page=filters["page"], per_page=PER_PAGE)
    record(db.session, "consent.log.view", now=now, actor=g.user, family_ref=family.id if family else None,
           details={"filters": {k: str(v) for k, v in filters.items()
                                if v not in (None, "") and k not in ("page", "case_number")},
                    "rows": len(page.items)})
    families = {f.id: f for f in db.session.scalars(
        sa.select(Family).where(Family.id.in_({r.family_id for r in page.items})))} if page.items else {}
    return render_template(
        "privacy/consent_log.html", page=page, rows=_consent_rows(list(page.items), now), families=families,
        filters=filters, errors=errors, unknown_case=unknown_case,
        purpose_options=[(p.value, p.label) for p in Purpose], state_options=[(x.value, x.label) for x in ConsentState],
        query_args={k: v for k, v in request.args.items() if k != "page"}, **_labels())


@bp.route("/datenschutz/familien")
@requires(CONSENT_LOG)
def find_family():
    case_number = (request.args.get("case_number") or "").strip()
    family = family_by_case_number(case_number) if 3 <= len(case_number) <= 24 else None
    if family is not None:
        return redirect(url_for(".family_overview", family_id=family.id))
    return render_template("privacy/find_family.html", case_number=case_number,
                           not_found=bool(case_number)), 404 if case_number else 200


@bp.route("/datenschutz/familien/<uuid:family_id>")
@requires(CONSENT_LOG)
def family_overview(family_id: uuid.UUID):
    family = _family(family_id)
    now = utcnow()
    persons = db.session.execute(sa.select(Person.role, sa.func.count()).where(Person.family_id == family.id)
                                 .group_by(Person.role)).all()
    requests = db.session.scalars(sa.select(ErasureRequest).where(ErasureRequest.family_id == family.id)
                                  .order_by(ErasureRequest.requested_dt.desc())).all()
    tomb = db.session.scalar(sa.select(ErasureTombstone).where(ErasureTombstone.family_id == family.id))
    return render_template(
        "privacy/family.html", family=family, persons={r: n for r, n in persons}, tomb=tomb,
        rows=_consent_rows(family_consents(family), now), requests=requests,
        open_request=next((r for r in requests if r.is_open), None), reasons=ERASURE_REASONS,
        users=_user_names({r.requested_by_id for r in requests} | {r.confirmed_by_id for r in requests}),
        **_labels())


def _user_names(ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


# --- subject-access report (dpo) ----------------------------------------------------------------


@bp.route("/datenschutz/familien/<uuid:family_id>/auskunft")
@requires(SUBJECT_ACCESS)
def subject_access(family_id: uuid.UUID):
    report = subject_access_report(_family(family_id), fmt="html", actor=g.user, now=utcnow())
    return render_template("privacy/subject_access.html", report=report.for_page(), family_id=family_id)


@bp.route("/datenschutz/familien/<uuid:family_id>/auskunft.pdf")
@requires(SUBJECT_ACCESS)
def subject_access_pdf(family_id: uuid.UUID):
    family = _family(family_id)
    report = subject_access_report(family, fmt="pdf", actor=g.user, now=utcnow())
    response = make_response(report_pdf(report.to_dict()))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="auskunft-{family.case_number}.pdf"'
    return response


@bp.route("/datenschutz/familien/<uuid:family_id>/auskunft.json")
@requires(SUBJECT_ACCESS)
def subject_access_json(family_id: uuid.UUID):
    family = _family(family_id)
    report = subject_access_report(family, fmt="json", actor=g.user, now=utcnow())
    response = jsonify(report.to_dict())
    response.headers["Content-Disposition"] = f'attachment; filename="auskunft-{family.case_number}.json"'
    return response


# --- erasure with four eyes (dpo, admin) --------------------------------------------------------


@bp.route("/datenschutz/familien/<uuid:family_id>/loeschung", methods=["GET", "POST"])
@requires(ERASURE)
def erasure_request(family_id: uuid.UUID):
    family = _family(family_id)
    context = {"family": family, "reasons": ERASURE_REASONS}
    if request.method == "GET":
        return render_template("privacy/erasure_request.html", **context)
    data = load_form(ErasureRequestIn(), template="privacy/erasure_request.html", **context)
    erasure.request_erasure(family, reason=data["reason"], note=data["note"], actor=g.user, now=utcnow())
    flash(_("Die Löschung ist beantragt. Eine zweite berechtigte Person muss sie bestätigen."), "success")
    return redirect(url_for(".erasures"))


@bp.route("/datenschutz/loeschungen")
@requires(ERASURE)
def erasures():
    open_requests = db.session.scalars(sa.select(ErasureRequest).where(
        ErasureRequest.confirmed_dt.is_(None), ErasureRequest.cancelled_dt.is_(None))
        .order_by(ErasureRequest.requested_dt)).all()
    done = db.session.scalars(sa.select(ErasureTombstone).order_by(ErasureTombstone.erased_dt.desc()).limit(100)).all()
    families = {f.id: f for f in db.session.scalars(
        sa.select(Family).where(Family.id.in_({r.family_id for r in open_requests})))} if open_requests else {}
    return render_template("privacy/erasures.html", open_requests=open_requests, done=done, families=families,
                           reasons=ERASURE_REASONS, users=_user_names({r.requested_by_id for r in open_requests}))


def _request(request_id: uuid.UUID) -> ErasureRequest:
    req = db.session.get(ErasureRequest, request_id)
    if req is None:
        raise NotFound()
    return req


@bp.route("/datenschutz/loeschungen/<uuid:request_id>/bestaetigen", methods=["POST"])
@requires(ERASURE)
def erasure_confirm(request_id: uuid.UUID):
    tomb = erasure.confirm_erasure(_request(request_id), actor=g.user, now=utcnow())
    flash(_("Die Daten der Familie %(case)s sind gelöscht: Ihr Schlüssel ist vernichtet.", case=tomb.case_number),
          "success")
    return redirect(url_for(".erasures"))


@bp.route("/datenschutz/loeschungen/<uuid:request_id>/zurueckziehen", methods=["POST"])
@requires(ERASURE)
def erasure_cancel(request_id: uuid.UUID):
    erasure.cancel_erasure(_request(request_id), actor=g.user, now=utcnow())
    flash(_("Der Löschantrag ist zurückgezogen."), "success")
    return redirect(url_for(".erasures"))


# --- a family's consents (staff) ----------------------------------------------------------------


def _persons_meta(family: Family) -> list[dict[str, Any]]:
    """Persons as the consent form shows them: role and birth year, never a name."""
    out, guardians = [], 0
    for p in db.session.scalars(sa.select(Person).where(Person.family_id == family.id)
                                .order_by(Person.role, Person.created_dt, Person.id)):
        if p.role is PersonRole.child:
            label = _("Kind (geb. %(y)s)", y=p.birth_year) if p.birth_year else _("Kind")
        else:
            guardians += 1
            label = _("Sorgeberechtigte Person %(n)s", n=guardians) if p.has_custody else \
                _("Elternteil %(n)s (ohne Sorgerecht)", n=guardians)
        out.append({"id": p.id, "label": label})
    return out


@bp.route("/einwilligungen/familie/<uuid:family_id>")
@requires(CONSENT_READ)
def family_consents_page(family_id: uuid.UUID):
    family = _staff_family(family_id)
    return render_template("privacy/family_consents.html", family=family,
                           rows=_consent_rows(family_consents(family), utcnow()),
                           may_withdraw=can(g.user, CONSENT_WITHDRAW), may_record=can(g.user, CONSENT_RECORD),
                           **_labels())


@bp.route("/einwilligungen/familie/<uuid:family_id>/<uuid:consent_id>/widerruf", methods=["POST"])
@requires(CONSENT_WITHDRAW)
def withdraw(family_id: uuid.UUID, consent_id: uuid.UUID):
    family = _staff_family(family_id)
    rec = db.session.get(ConsentRecord, consent_id, with_for_update=True)
    if rec is None or rec.family_id != family.id:
        raise NotFound()
    data = load_form(WithdrawIn(), template="privacy/family_consents.html", family=family,
                     rows=_consent_rows(family_consents(family), utcnow()),
                     may_withdraw=True, may_record=can(g.user, CONSENT_RECORD), **_labels())
    ops.withdraw_consent(rec, via=data["via"], actor=g.user, now=utcnow(), expected_version=data["expected_version"])
    flash(_("Der Widerruf ist erfasst. Er gilt ab sofort: empfangende Stellen sehen die Daten nicht mehr."),
          "success")
    return redirect(url_for(".family_consents_page", family_id=family.id))


def _record_context(family: Family, supersedes: ConsentRecord | None) -> dict[str, Any]:
    templates = db.session.scalars(sa.select(ConsentTemplate).where(ConsentTemplate.is_active.is_(True))
                                   .order_by(ConsentTemplate.title, ConsentTemplate.version.desc())).all()
    agencies = [a for a in _agencies().values() if a.is_active]
    return {"family": family, "supersedes": supersedes, "agencies": agencies,
            "template_options": [(str(t.id), _("%(t)s (Fassung %(v)s, %(l)s)", t=t.title, v=t.version, l=t.language))
                                 for t in templates],
            "purposes_options": [(p.value, p.label) for p in Purpose],
            "category_options": [(c.value, c.label) for c in DataCategory],
            "agency_options": [(str(a.id), a.name) for a in agencies],
            "person_options": [(str(p["id"]), p["label"]) for p in _persons_meta(family)],
            "channel_options": [(c.value, t) for c, t in CONSENT_CHANNELS.items()], **_labels()}


def _superseded(family: Family, consent_id: Any) -> ConsentRecord | None:
    if not consent_id:
        return None
    try:
        rec = db.session.get(ConsentRecord, uuid.UUID(str(consent_id)), with_for_update=True)
    except ValueError:
        raise NotFound() from None
    if rec is None or rec.family_id != family.id:
        raise NotFound()
    return rec


@bp.route("/einwilligungen/familie/<uuid:family_id>/neu", methods=["GET", "POST"])
@requires(CONSENT_RECORD)
def record_consent(family_id: uuid.UUID):
    family = _staff_family(family_id)
    if request.method == "GET":
        return render_template("privacy/consent_form.html",
                               **_record_context(family, _superseded(family, request.args.get("ersetzt"))))
    context = _record_context(family, _superseded(family, request.form.get("supersedes_id")))
    data = load_form(ConsentRecordIn(), template="privacy/consent_form.html", **context)
    template = db.session.get(ConsentTemplate, data["template_id"])
    if template is None:
        raise NotFound()
    if not set(data["recipient_agency_ids"]) <= {a.id for a in context["agencies"]}:
        return render_template("privacy/consent_form.html", form=request.form, **context,
                               errors={"recipient_agency_ids": [_("Bitte nur Stellen aus der Liste wählen.")]}), 422
    try:
        ops.record_consent(
            family, template=template, purposes=set(data["purposes"]), categories=set(data["categories"]),
            recipient_agency_ids=set(data["recipient_agency_ids"]),
            signatories=[{"person_id": p} for p in data["signatory_ids"]], channel=data["channel"], actor=g.user,
            now=utcnow(), valid_until=day_end(data["valid_until"]) if data["valid_until"] else None,
            supersedes=context["supersedes"],
            child_age_threshold=g.user.tenant.settings.get("consent_age_threshold", 14))
    except InvalidInput as e:
        db.session.rollback()
        return render_template("privacy/consent_form.html", errors=e.errors, form=request.form,
                               **_record_context(_family(family_id),
                                                 _superseded(family, request.form.get("supersedes_id")))), 422
    flash(_("Die Einwilligung ist erfasst.") + (" " + _("Die bisherige Fassung ist ersetzt.")
                                               if context["supersedes"] else ""), "success")
    return redirect(url_for(".family_consents_page", family_id=family.id))
