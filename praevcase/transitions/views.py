"""Pages of the transition protocols: overview, create, dated versions, consent, handover and receipt."""
from __future__ import annotations

import uuid
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.errors import PermissionDenied
from praevcase.extensions import db
from praevcase.forms import load_form
from praevcase.i18n import N_
from praevcase.i18n import translated
from praevcase.permissions import requires
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import Family
from praevcase.reminders.windows import TIMEZONE
from praevcase.statemachine import may_fire
from praevcase.statemachine import permitted_triggers
from praevcase.tenants.models import Tenant
from praevcase.transitions import operations as ops
from praevcase.transitions import queries
from praevcase.transitions.content import content_schema
from praevcase.transitions.content import form_from_content
from praevcase.transitions.handover import configured_basis
from praevcase.transitions.handover import handover_basis
from praevcase.transitions.models import ProtocolKind
from praevcase.transitions.models import ProtocolTemplate
from praevcase.transitions.permissions import PROTOCOLS
from praevcase.transitions.permissions import TEMPLATES
from praevcase.transitions.schemas import HandoverConsentIn
from praevcase.transitions.schemas import ParentTalkIn
from praevcase.transitions.schemas import ProtocolCreateIn
from praevcase.transitions.schemas import ReceiverIn
from praevcase.transitions.schemas import TemplateIn
from praevcase.transitions.schemas import TriggerIn
from praevcase.transitions.schemas import lines
from workflows import WORKFLOWS

bp = Blueprint("transitions", __name__, url_prefix="/uebergaenge")

SEGMENTS = {"ue1": ProtocolKind.u1, "ue2": ProtocolKind.u2}
SEGMENT_OF = {v: k for k, v in SEGMENTS.items()}
TITLES = {ProtocolKind.u1: N_("Ü1-Protokoll (Kita → Grundschule)"),
          ProtocolKind.u2: N_("Ü2-Protokoll (Grundschule → weiterführende Schule)")}
CHANNEL_LABELS = {ConsentChannel.written: N_("Schriftlich unterschrieben"),
                  ConsentChannel.electronic: N_("Elektronisch"),
                  ConsentChannel.oral_documented: N_("Mündlich, dokumentiert")}
#: Triggers with a form of their own on the protocol page (not a plain button)
WITH_FORM = {"defer", "record_follow_up", "forward"}


def _kind(segment: str) -> ProtocolKind:
    if segment not in SEGMENTS:
        raise NotFound()
    return SEGMENTS[segment]


def _protocol(segment: str, protocol_id: uuid.UUID, *, for_update: bool = False) -> Any:
    return queries.get_protocol(_kind(segment), protocol_id, g.user, for_update=for_update)


def _show(protocol: Any, **kw: Any) -> Any:
    return redirect(url_for(".show", segment=SEGMENT_OF[protocol.kind], protocol_id=protocol.id, **kw))


def _local_end_of(day: Any) -> datetime | None:
    """A date entered as "valid until" means: until the end of that day in Germany."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=TIMEZONE)


@bp.route("/")
@requires(PROTOCOLS)
def overview():
    year = request.args.get("jahr", type=int)
    rows = queries.listing(g.user, school_year=year)
    names = queries.agency_names({r["protocol"].receiver_agency_id for r in rows}
                                 | {r["protocol"].author_agency_id for r in rows})
    return render_template("transitions/overview.html", rows=rows, counts=queries.counts(rows), year=year,
                           years=queries.school_years(g.user), names=names, workflows=WORKFLOWS,
                           segment_of=SEGMENT_OF, may_create=_creatable_kinds())


def _creatable_kinds() -> list[ProtocolKind]:
    return [k for k in ProtocolKind if g.user.agency.kind is ops.AUTHOR_KIND[k]]


def _new_context(kind: ProtocolKind) -> dict[str, Any]:
    return {"kind": kind, "segment": SEGMENT_OF[kind], "title": _(TITLES[kind]), "schools": queries.schools(kind)}


@bp.route("/<segment>/neu", methods=["GET", "POST"])
@requires(PROTOCOLS)
def new(segment: str):
    kind = _kind(segment)
    if kind not in _creatable_kinds():
        raise PermissionDenied(_("Ü1-Protokolle schreiben Kitas, Ü2-Protokolle Grundschulen."))
    if request.method == "GET":
        return render_template("transitions/new.html", **_new_context(kind))
    schema = ProtocolCreateIn()
    data = load_form(schema, template="transitions/new.html", **_new_context(kind))
    protocol = ops.create_protocol(
        kind, child={"given_name": data["given_name"], "family_name": data["family_name"],
                     "birth_date": data["birth_date"]},
        guardians=schema.guardians(data), receiver_agency_id=data["receiver_agency_id"],
        school_year=data["school_year"], actor=g.user, now=utcnow())
    flash(_("Das Protokoll wurde angelegt. Bitte jetzt den Inhalt erfassen."), "success")
    return redirect(url_for(".edit", segment=segment, protocol_id=protocol.id))


def _actions(protocol: Any, now: datetime) -> tuple[list[str], dict[str, bool]]:
    """Plain buttons (state, guards and permission checked) and the triggers that need a form first."""
    workflow = WORKFLOWS[protocol.workflow_name]
    buttons = [t for t in permitted_triggers(workflow, protocol, actor=g.user, now=now) if t not in WITH_FORM]
    forms = {t: t in workflow.triggers and workflow.edge(protocol.state, t) is not None
             and may_fire(g.user, workflow.name, t, protocol) for t in WITH_FORM}
    return buttons, forms


@bp.route("/<segment>/<uuid:protocol_id>")
@requires(PROTOCOLS)
def show(segment: str, protocol_id: uuid.UUID):
    protocol = _protocol(segment, protocol_id)
    now = utcnow()
    versions = ops.readable_versions(protocol, g.user)
    latest = versions[0] if versions else None
    content = ops.read_version(protocol, latest, actor=g.user, now=now) if latest else None
    template = db.session.get(ProtocolTemplate, latest.template_id) if latest else None
    is_author = g.user.agency_id == protocol.author_agency_id
    is_sender = g.user.agency_id == ops.next_sender(protocol)
    basis = (handover_basis(protocol, protocol.receiver_agency_id, now=now)
             if is_author and protocol.receiver_agency_id else None)
    handovers = queries.handovers(protocol, g.user)
    buttons, forms = _actions(protocol, now)
    names = queries.agency_names({protocol.author_agency_id, protocol.receiver_agency_id}
                                 | {h.to_agency_id for h in handovers} | {h.from_agency_id for h in handovers})
    follow_up_note = (ops.read_follow_up_note(protocol, actor=g.user, now=now)
                      if protocol.kind is ProtocolKind.u1 else None)
    return render_template(
        "transitions/show.html", protocol=protocol, segment=segment, title=_(TITLES[protocol.kind]),
        workflow=WORKFLOWS[protocol.workflow_name], child=ops.read_child(protocol, actor=g.user, now=now),
        content=content, form_template=template, versions=versions, latest=latest, is_author=is_author,
        is_sender=is_sender, basis=basis, configured_basis=configured_basis(protocol), handovers=handovers,
        buttons=buttons, forms=forms, names=names, schools=queries.schools(protocol.kind),
        follow_up_note=follow_up_note, case_number=_case_number(protocol))


def _case_number(protocol: Any) -> str:
    return db.session.get(Family, protocol.family_id).case_number


def _edit_context(protocol: Any, template: ProtocolTemplate, segment: str) -> dict[str, Any]:
    return {"protocol": protocol, "form_template": template, "segment": segment, "title": _(TITLES[protocol.kind]),
            "case_number": _case_number(protocol)}


@bp.route("/<segment>/<uuid:protocol_id>/bearbeiten", methods=["GET", "POST"])
@requires(PROTOCOLS)
def edit(segment: str, protocol_id: uuid.UUID):
    protocol = _protocol(segment, protocol_id, for_update=request.method == "POST")
    ops.require_author(protocol, g.user)
    now = utcnow()
    template = ops.current_template(protocol.tenant_id, protocol.kind, now=now)
    context = _edit_context(protocol, template, segment)
    if request.method == "GET":
        versions = ops.readable_versions(protocol, g.user)
        latest = ops.read_version(protocol, versions[0], actor=g.user, now=now) if versions else None
        return render_template("transitions/edit.html", form=form_from_content(latest), **context)
    data = load_form(content_schema(protocol.kind, template), template="transitions/edit.html", **context)
    version = ops.save_content(protocol, data, template=template, actor=g.user, now=now,
                               expected_version=data["expected_version"])
    flash(_("Fassung %(n)s vom %(d)s gespeichert.", n=version.number, d=now.astimezone(TIMEZONE).strftime(
        "%d.%m.%Y %H:%M")), "success")
    return _show(protocol)


@bp.route("/<segment>/<uuid:protocol_id>/fassungen/<uuid:version_id>")
@requires(PROTOCOLS)
def version(segment: str, protocol_id: uuid.UUID, version_id: uuid.UUID):
    protocol = _protocol(segment, protocol_id)
    found = next((v for v in ops.readable_versions(protocol, g.user) if v.id == version_id), None)
    if found is None:
        raise NotFound()
    content = ops.read_version(protocol, found, actor=g.user, now=utcnow())
    return render_template("transitions/version.html", protocol=protocol, segment=segment, version=found,
                           title=_(TITLES[protocol.kind]), content=content,
                           form_template=db.session.get(ProtocolTemplate, found.template_id),
                           case_number=_case_number(protocol))


@bp.route("/<segment>/<uuid:protocol_id>/schule", methods=["POST"])
@requires(PROTOCOLS)
def receiver(segment: str, protocol_id: uuid.UUID):
    protocol = _protocol(segment, protocol_id, for_update=True)
    data = load_form(ReceiverIn(), template="errors/422.html", status=422, code="invalid_input", detail="")
    ops.set_receiver(protocol, data["receiver_agency_id"], actor=g.user, now=utcnow())
    flash(_("Die aufnehmende Schule wurde eingetragen."), "success")
    return _show(protocol)


@bp.route("/<segment>/<uuid:protocol_id>/elterngespraech", methods=["POST"])
@requires(PROTOCOLS)
def parent_talk(segment: str, protocol_id: uuid.UUID):
    protocol = _protocol(segment, protocol_id, for_update=True)
    if protocol.kind is not ProtocolKind.u1:
        raise NotFound()
    data = load_form(ParentTalkIn(), template="errors/422.html", status=422, code="invalid_input", detail="")
    ops.record_parent_talk(protocol, data["parent_talk_on"], actor=g.user, now=utcnow())
    flash(_("Das Elterngespräch wurde erfasst."), "success")
    return _show(protocol)


def _consent_context(protocol: Any, segment: str, now: datetime) -> dict[str, Any]:
    return {"protocol": protocol, "segment": segment, "title": _(TITLES[protocol.kind]),
            "guardians": ops.guardian_names(protocol, actor=g.user, now=now), "schools": queries.schools(protocol.kind),
            "channels": translated(CHANNEL_LABELS), "case_number": _case_number(protocol),
            "consent_text": ops.ensure_consent_template(db.session.get(Tenant, protocol.tenant_id), protocol.kind,
                                                    actor=g.user, now=now)}


@bp.route("/<segment>/<uuid:protocol_id>/einwilligung", methods=["GET", "POST"])
@requires(PROTOCOLS)
def consent(segment: str, protocol_id: uuid.UUID):
    protocol = _protocol(segment, protocol_id, for_update=request.method == "POST")
    if g.user.agency_id != ops.next_sender(protocol):
        raise PermissionDenied()
    now = utcnow()
    context = _consent_context(protocol, segment, now)
    if request.method == "GET":
        return render_template("transitions/consent.html", **context)
    data = load_form(HandoverConsentIn(), template="transitions/consent.html", **context)
    ops.record_handover_consent(protocol, recipient_agency_id=data["recipient_agency_id"],
                                signatory_ids=data["signatories"], channel=data["channel"],
                                valid_until=_local_end_of(data["valid_until"]), actor=g.user, now=now)
    flash(_("Die Einwilligung wurde erfasst."), "success")
    return _show(protocol)


@bp.route("/<segment>/<uuid:protocol_id>/aktion/<trigger>", methods=["POST"])
@requires(PROTOCOLS)
def fire(segment: str, protocol_id: uuid.UUID, trigger: str):
    protocol = _protocol(segment, protocol_id, for_update=True)
    workflow = WORKFLOWS[protocol.workflow_name]
    if trigger not in workflow.triggers:
        raise NotFound()
    data = load_form(TriggerIn(), template="errors/422.html", status=422, code="invalid_input", detail="")
    ops.fire(protocol, trigger, actor=g.user, now=utcnow(), expected_version=data["expected_version"],
             reason=data["reason"], to=data["to"], follow_up_on=data["follow_up_on"], note=data["note"])
    flash(_("„%(action)s“ wurde ausgeführt.", action=_(workflow.trigger_label(trigger))), "success")
    return _show(protocol)


@bp.route("/vorlagen")
@requires(TEMPLATES)
def templates():
    now = utcnow()
    current = {k: ops.current_template(g.user.tenant_id, k, now=now) for k in ProtocolKind}
    return render_template("transitions/templates.html", current=current, titles=translated(TITLES),
                           segment_of=SEGMENT_OF)


@bp.route("/vorlagen/<segment>", methods=["POST"])
@requires(TEMPLATES)
def template_update(segment: str):
    kind = _kind(segment)
    now = utcnow()
    current = {k: ops.current_template(g.user.tenant_id, k, now=now) for k in ProtocolKind}
    data = load_form(TemplateIn(), template="transitions/templates.html", current=current, titles=translated(TITLES),
                     segment_of=SEGMENT_OF)
    template = ops.update_template(db.session.get(Tenant, g.user.tenant_id), kind, areas=lines(data["areas"]),
                                   scale=lines(data["scale"]), recommendations=lines(data["recommendations"]),
                                   actor=g.user, now=now)
    flash(_("Vorlage %(kind)s gespeichert (Version %(v)s).", kind=segment.upper(), v=template.version), "success")
    return redirect(url_for(".templates"))

