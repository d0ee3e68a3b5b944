"""Case pages: lists per role, the intake forms per channel, the case file and its actions."""
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
from marshmallow import ValidationError

from consent.scopes import LABELS
from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.cases import catalogue as cat
from praevcase.cases import detail
from praevcase.cases import operations as ops
from praevcase.cases import permissions as perms
from praevcase.cases import queries
from praevcase.cases.forms import consent_page_data
from praevcase.cases.forms import consent_page_errors
from praevcase.cases.forms import flat_errors
from praevcase.cases.forms import intake_form_data
from praevcase.cases.models import Case
from praevcase.cases.permissions import CASES_ACT
from praevcase.cases.permissions import CASES_INTAKE
from praevcase.cases.permissions import CASES_VIEW
from praevcase.cases.schemas import CHANNEL_FORMS
from praevcase.cases.schemas import WITHDRAWAL_CHANNELS
from praevcase.cases.schemas import CaseConsentIn
from praevcase.cases.schemas import EscalationProposalIn
from praevcase.cases.schemas import TransitionIn
from praevcase.cases.schemas import VersionIn
from praevcase.database import utcnow
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.i18n import N_
from praevcase.permissions import requires
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import Family
from praevcase.schemas import form_data
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from workflows.case import CLOSING_REASON_LABELS_DE
from workflows.case import CaseState
from workflows.case import ClosingReason

bp = Blueprint("cases", __name__, url_prefix="/faelle")

CONSENT_CHANNEL_LABELS = {ConsentChannel.written: N_("Schriftlich (unterschriebenes Formular)"),
                          ConsentChannel.electronic: N_("Elektronisch"), ConsentChannel.oral_documented:
                          N_("Mündlich, dokumentiert")}
CONSENT_STATUS_LABELS = {"given": N_("Ja, die Einwilligung ist erteilt"),
                         "pending": N_("Noch offen – die Eltern entscheiden später"),
                         "refused": N_("Nein, abgelehnt – der Fall bleibt in Ihrer Stelle")}
DEFAULT_PURPOSES = [Purpose.team_review.value, Purpose.lotse_support.value, Purpose.referral.value]
DEFAULT_CATEGORIES = [DataCategory.identity.value, DataCategory.contact.value, DataCategory.family_situation.value,
                      DataCategory.case_notes.value]


def _visible_case(case_id: uuid.UUID) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not queries.can_see(g.user, case):
        raise NotFound()
    return case


def _selector(defaults: dict[str, list[str]]) -> Any:
    """Checked values of a checkbox group: the submitted ones on a re-render, else the defaults."""
    return lambda name: request.form.getlist(name) if request.method == "POST" else defaults.get(name, [])


def _consent_context(health: bool, statuses: tuple[str, ...] = ("given", "pending", "refused")) -> dict[str, Any]:
    templates = db.session.scalars(sa.select(ConsentTemplate).where(ConsentTemplate.is_active.is_(True))
                                   .order_by(ConsentTemplate.key, ConsentTemplate.language,
                                             ConsentTemplate.version.desc())).all()
    agencies = db.session.scalars(sa.select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.name)).all()
    extra = [Purpose.health_data_sharing.value] if health else []
    return {
        "templates": [(str(t.id), f"{t.title} – Fassung {t.version} ({t.language})") for t in templates],
        "purpose_options": [(p.value, LABELS[p]) for p in Purpose],
        "category_options": [(c.value, LABELS[c]) for c in DataCategory],
        "agency_options": [(str(a.id), a.name) for a in agencies],
        "consent_channels": [(c.value, _(label)) for c, label in CONSENT_CHANNEL_LABELS.items()],
        "consent_statuses": [(s, _(CONSENT_STATUS_LABELS[s])) for s in statuses],
        "sel": _selector({"consent-purposes": DEFAULT_PURPOSES + extra,
                          "consent-categories": DEFAULT_CATEGORIES + ([DataCategory.health.value] if health else []),
                          "consent-template_id": [str(templates[0].id)] if templates else []}),
    }


def _intake_context(slug: str, **extra: Any) -> dict[str, Any]:
    channel, _schema, title = CHANNEL_FORMS[slug]
    tenant = db.session.get(Tenant, g.user.tenant_id)
    health = channel in cat.HEALTH_CHANNELS
    return {"slug": slug, "channel": channel, "title": title, "cat": cat,
            "general_channels": [(c.value, cat.CHANNEL_LABELS[c]) for c in cat.GENERAL_CHANNELS],
            "need_options": [(n.value, label) for n, label in cat.NEED_LABELS.items()],
            "sozialraeume": tenant.settings.get("sozialraeume", []), "four_eyes": channel in cat.FOUR_EYES_CHANNELS,
            **_consent_context(health), **extra}


@bp.route("/")
@requires(CASES_VIEW)
def index():
    only = request.args.get("abschnitt") or None
    try:
        page = max(1, int(request.args.get("seite", "1")))
    except ValueError:
        raise NotFound() from None
    sections = queries.sections_for(g.user, only=only, page=page)
    return render_template("cases/list.html", sections=sections, cat=cat, state_label=detail.CASE.state_label,
                           only=only, page=page, page_size=queries.PAGE_SIZE)


@bp.route("/neu")
@requires(CASES_INTAKE)
def new():
    return render_template("cases/new.html", forms=[(slug, title) for slug, (_c, _s, title) in CHANNEL_FORMS.items()])


@bp.route("/neu/<slug>", methods=["GET", "POST"])
@requires(CASES_INTAKE)
def intake(slug: str):
    if slug not in CHANNEL_FORMS:
        raise NotFound()
    channel, schema_cls, _title = CHANNEL_FORMS[slug]
    if request.method == "GET":
        return render_template("cases/intake_form.html", **_intake_context(slug))
    schema = schema_cls()
    raw, index = intake_form_data(request.form, schema)
    try:
        data = schema.load(raw)
    except ValidationError as err:
        return render_template("cases/intake_form.html", errors=flat_errors(err.messages, index), form=request.form,
                               **_intake_context(slug)), 422
    try:
        case = ops.open_case(db.session.get(Tenant, g.user.tenant_id), channel or data["channel"], data,
                             schema_cls.ANSWER_FIELDS, actor=g.user, now=utcnow())
    except ops.PossibleDuplicate as e:
        db.session.rollback()  # nothing was written; the user chooses first
        return render_template("cases/intake_form.html", duplicates=e.candidates, form=request.form,
                               **_intake_context(slug)), 409
    except InvalidInput as e:
        db.session.rollback()  # nothing half-written stays
        return render_template("cases/intake_form.html", errors=flat_errors(e.errors, index), form=request.form,
                               **_intake_context(slug)), 422
    number = db.session.get(Family, case.family_id).case_number
    flash(_("Der Fall %(n)s wurde aufgenommen.", n=number), "success")
    if case.four_eyes_required:
        flash(_("Fallnummer %(n)s bitte auf dem Screeningbogen notieren. Eine zweite Fachkraft Ihrer Stelle "
                "bestätigt das Screening, bevor der Fall weitergeht.", n=number), "info")
    return redirect(url_for(".show", case_id=case.id))


def _detail_context(case: Case) -> dict[str, Any]:
    return {"view": detail.case_detail(case, g.user, utcnow()), "cat": cat,
            "closing_reasons": [(r.value, label) for r, label in CLOSING_REASON_LABELS_DE.items()
                                if r is not ClosingReason.consent_withdrawn],
            "withdrawal_channels": list(WITHDRAWAL_CHANNELS.items()),
            "lotse_options": [(str(u.id), f"{u.display_name} ({u.agency.name})") for u in queries.team_members()],
            "youth_offices": [(str(a.id), a.name) for a in queries.youth_offices()]}


@bp.route("/<uuid:case_id>")
@requires(CASES_VIEW)
def show(case_id: uuid.UUID):
    return render_template("cases/detail.html", **_detail_context(_visible_case(case_id)))


@bp.route("/<uuid:case_id>/aktion", methods=["POST"])
@requires(CASES_ACT)
def act(case_id: uuid.UUID):
    _visible_case(case_id)  # 404 before anything about the input is said
    schema = TransitionIn()
    data = schema.load(form_data(request.form, schema))
    case = ops.apply_action(ops.lock_case(case_id, g.user), data, actor=g.user, now=utcnow())
    flash(_("„%(action)s“ wurde ausgeführt. Neuer Stand: %(state)s.",
            action=_(detail.CASE.trigger_label(data["trigger"])),
            state=_(detail.CASE.state_label(case.state))), "success")
    return redirect(url_for(".show", case_id=case.id))


@bp.route("/<uuid:case_id>/einwilligung", methods=["GET", "POST"])
@requires(CASES_ACT)
def consent(case_id: uuid.UUID):
    case = _visible_case(case_id)
    if not perms.is_origin_intake(g.user, case):
        raise PermissionDenied()
    if case.state is not CaseState.consent_pending:
        raise Conflict(_("Die Einwilligung kann nur erfasst werden, solange sie aussteht."))
    health = case.channel in cat.HEALTH_CHANNELS
    number = db.session.get(Family, case.family_id).case_number
    context = {"case": case, "case_number": number, **_consent_context(health, ("given", "refused"))}
    if request.method == "GET":
        return render_template("cases/consent_form.html", **context)
    try:
        data = CaseConsentIn().load(consent_page_data(request.form))
        ops.record_case_consent(ops.lock_case(case_id, g.user), data, actor=g.user, now=utcnow())
    except ValidationError as err:
        return render_template("cases/consent_form.html", errors=consent_page_errors(err.messages),
                               form=request.form, **context), 422
    except InvalidInput as e:
        db.session.rollback()
        return render_template("cases/consent_form.html", errors=consent_page_errors(e.errors),
                               form=request.form, **context), 422
    flash(_("Die Entscheidung der Eltern wurde erfasst."), "success")
    return redirect(url_for(".show", case_id=case_id))


@bp.route("/<uuid:case_id>/bestaetigen", methods=["POST"])
@requires(CASES_ACT)
def confirm(case_id: uuid.UUID):
    _visible_case(case_id)
    schema = VersionIn()
    data = schema.load(form_data(request.form, schema))
    ops.confirm_intake(ops.lock_case(case_id, g.user), actor=g.user, now=utcnow(), expected_version=data["version"])
    flash(_("Das Screening wurde bestätigt."), "success")
    return redirect(url_for(".show", case_id=case_id))


@bp.route("/<uuid:case_id>/gefaehrdung", methods=["POST"])
@requires(CASES_ACT)
def propose_escalation(case_id: uuid.UUID):
    _visible_case(case_id)
    schema = EscalationProposalIn()
    data = schema.load(form_data(request.form, schema))
    ops.propose_escalation(ops.lock_case(case_id, g.user), data, actor=g.user, now=utcnow())
    flash(_("Die Übergabe an das Jugendamt ist vorgeschlagen. Eine zweite Fachkraft (Koordination oder Lotsin/Lotse) "
            "bestätigt sie."), "warning")
    return redirect(url_for(".show", case_id=case_id))
