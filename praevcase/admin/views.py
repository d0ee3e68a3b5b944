"""Admin pages: agencies and users of the admin's own tenant only (scoping does the rest)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from praevcase.accounts import operations as account_ops
from praevcase.accounts.models import ROLE_LABELS
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.admin.schemas import PasswordSetIn
from praevcase.admin.schemas import UserCreateIn
from praevcase.admin.schemas import UserUpdateIn
from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.forms import load_form
from praevcase.i18n import translated
from praevcase.permissions import requires
from praevcase.tenants import operations as tenant_ops
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.tenants.schemas import AGENCY_KIND_LABELS
from praevcase.tenants.schemas import AgencyIn

bp = Blueprint("admin", __name__, url_prefix="/verwaltung")


def _tenant() -> Tenant:
    return db.session.get(Tenant, g.user.tenant_id)


def _agency(agency_id: uuid.UUID) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound()
    return agency


def _user(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def _agencies() -> list[Agency]:
    return list(db.session.scalars(sa.select(Agency).order_by(Agency.name)))


def _agency_context(**extra):
    return {"kind_labels": translated(AGENCY_KIND_LABELS), "sozialraeume": _tenant().settings.get("sozialraeume", []),
            **extra}


@bp.route("/stellen")
@requires("admin.agencies")
def agencies():
    return render_template("admin/agencies.html", agencies=_agencies(), kind_labels=translated(AGENCY_KIND_LABELS))


@bp.route("/stellen/neu", methods=["GET", "POST"])
@requires("admin.agencies")
def agency_new():
    if request.method == "GET":
        return render_template("admin/agency_form.html", **_agency_context(agency=None))
    data = load_form(AgencyIn(), template="admin/agency_form.html", **_agency_context(agency=None))
    try:
        tenant_ops.create_agency(_tenant(), name=data["name"], kind=data["kind"], sozialraum=data["sozialraum"],
                                 actor=g.user, now=utcnow())
    except InvalidInput as e:
        return render_template("admin/agency_form.html", errors=e.errors, form=request.form,
                               **_agency_context(agency=None)), 422
    flash(_("Die Stelle wurde angelegt."), "success")
    return redirect(url_for(".agencies"))


@bp.route("/stellen/<uuid:agency_id>", methods=["GET", "POST"])
@requires("admin.agencies")
def agency_edit(agency_id: uuid.UUID):
    agency = _agency(agency_id)
    if request.method == "GET":
        return render_template("admin/agency_form.html", **_agency_context(agency=agency))
    data = load_form(AgencyIn(), template="admin/agency_form.html", **_agency_context(agency=agency))
    try:
        tenant_ops.update_agency(agency, name=data["name"], kind=data["kind"], sozialraum=data["sozialraum"],
                                 is_active=data["is_active"], actor=g.user, now=utcnow())
    except InvalidInput as e:
        return render_template("admin/agency_form.html", errors=e.errors, form=request.form,
                               **_agency_context(agency=agency)), 422
    flash(_("Die Stelle wurde gespeichert."), "success")
    return redirect(url_for(".agencies"))


def _user_context(**extra):
    return {"agencies": [a for a in _agencies() if a.is_active], "role_labels": translated(ROLE_LABELS),
            "roles": list(Role), **extra}


@bp.route("/benutzer")
@requires("admin.users")
def users():
    rows = db.session.scalars(sa.select(User).order_by(User.display_name)).all()
    return render_template("admin/users.html", users=rows, role_labels=translated(ROLE_LABELS))


@bp.route("/benutzer/neu", methods=["GET", "POST"])
@requires("admin.users")
def user_new():
    if request.method == "GET":
        return render_template("admin/user_form.html", **_user_context(edit_user=None))
    data = load_form(UserCreateIn(), template="admin/user_form.html", **_user_context(edit_user=None))
    try:
        account_ops.create_user(tenant=_tenant(), agency=_agency(data["agency_id"]), email=data["email"],
                                display_name=data["display_name"], roles=set(data["roles"]),
                                password=data["password"], actor=g.user, now=utcnow())
    except InvalidInput as e:
        return render_template("admin/user_form.html", errors=e.errors, form=request.form,
                               **_user_context(edit_user=None)), 422
    flash(_("Das Benutzerkonto wurde angelegt. Bei der ersten Anmeldung wird der zweite Faktor eingerichtet."),
          "success")
    return redirect(url_for(".users"))


@bp.route("/benutzer/<uuid:user_id>", methods=["GET", "POST"])
@requires("admin.users")
def user_edit(user_id: uuid.UUID):
    user = _user(user_id)
    if request.method == "GET":
        return render_template("admin/user_form.html", **_user_context(edit_user=user))
    data = load_form(UserUpdateIn(), template="admin/user_form.html", **_user_context(edit_user=user))
    try:
        account_ops.update_user(user, display_name=data["display_name"], agency=_agency(data["agency_id"]),
                                roles=set(data["roles"]), actor=g.user, now=utcnow())
    except InvalidInput as e:
        return render_template("admin/user_form.html", errors=e.errors, form=request.form,
                               **_user_context(edit_user=user)), 422
    flash(_("Das Benutzerkonto wurde gespeichert."), "success")
    return redirect(url_for(".users"))


@bp.route("/benutzer/<uuid:user_id>/status", methods=["POST"])
@requires("admin.users")
def user_status(user_id: uuid.UUID):
    user = _user(user_id)
    active = request.form.get("active") == "1"
    account_ops.set_user_active(user, active, actor=g.user, now=utcnow())
    flash(_("Das Konto wurde entsperrt.") if active else _("Das Konto wurde gesperrt; alle Sitzungen sind beendet."),
          "success")
    return redirect(url_for(".users"))


@bp.route("/benutzer/<uuid:user_id>/zweiter-faktor", methods=["POST"])
@requires("admin.users")
def user_reset_second_factor(user_id: uuid.UUID):
    account_ops.reset_second_factor(_user(user_id), actor=g.user, now=utcnow())
    flash(_("Der zweite Faktor wurde zurückgesetzt. Er wird bei der nächsten Anmeldung neu eingerichtet."),
          "success")
    return redirect(url_for(".users"))


@bp.route("/benutzer/<uuid:user_id>/passwort", methods=["POST"])
@requires("admin.users")
def user_set_password(user_id: uuid.UUID):
    user = _user(user_id)
    data = load_form(PasswordSetIn(), template="admin/user_form.html", **_user_context(edit_user=user))
    try:
        account_ops.set_password_by_admin(user, new=data["password"], actor=g.user, now=utcnow())
    except InvalidInput as e:
        return render_template("admin/user_form.html", errors=e.errors, **_user_context(edit_user=user)), 422
    flash(_("Das neue Passwort ist gesetzt; alle Sitzungen des Kontos wurden beendet."), "success")
    return redirect(url_for(".users"))
