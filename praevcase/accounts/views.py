"""Sign-in with a second factor, sign-out, the start page and the own account."""
from __future__ import annotations

import base64
import uuid

import segno
import sqlalchemy as sa
from flask import Blueprint
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_babel import refresh as refresh_locale
from flask_login import login_user
from flask_login import logout_user

from praevcase.accounts import operations as ops
from praevcase.accounts import tokens
from praevcase.accounts.models import ROLE_LABELS
from praevcase.accounts.models import ApiToken
from praevcase.accounts.models import User
from praevcase.accounts.schemas import CodeIn
from praevcase.accounts.schemas import LocaleIn
from praevcase.accounts.schemas import LoginIn
from praevcase.accounts.schemas import PasswordChangeIn
from praevcase.accounts.schemas import RecoveryIn
from praevcase.accounts.schemas import TokenCreateIn
from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.extensions import login_manager
from praevcase.forms import load_form
from praevcase.i18n import LOCALES
from praevcase.i18n import translated
from praevcase.permissions import AUTHENTICATED
from praevcase.permissions import PUBLIC
from praevcase.permissions import requires
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped
from praevcase.tenancy import set_scope

bp = Blueprint("accounts", __name__)

PENDING_SECONDS = 300


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    return ops.load_session(token, now=utcnow())


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("accounts.home")


def _remote_addr() -> str | None:
    return request.remote_addr


def _pending_user() -> User:
    pending = session.get("pending_login")
    if not pending or pending["until"] < utcnow().timestamp():
        session.pop("pending_login", None)
        abort(redirect(url_for("accounts.login")))
    with scoped(db.session, ALL_TENANTS):
        user = db.session.get(User, uuid.UUID(pending["uid"]))
    if user is None or not user.is_active:
        abort(redirect(url_for("accounts.login")))
    set_scope(db.session, user.tenant_id)  # from here on, this request acts within the user's tenant
    return user


def _complete_login(user: User, second_factor: str, next_url: str | None):
    token = ops.start_session(user, now=utcnow(), second_factor=second_factor)
    session.clear()  # a fresh session: no fixation of anything set before sign-in
    user.auth_token = token
    login_user(user)
    session.permanent = False
    return redirect(_safe_next(next_url))


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
def login():
    if g.user is not None:
        return redirect(url_for("accounts.home"))
    if request.method == "GET":
        return render_template("accounts/login.html", next=request.args.get("next", ""))
    data = load_form(LoginIn(), template="accounts/login.html", next=request.form.get("next", ""))
    try:
        user = ops.authenticate_password(data["email"], data["password"], remote_addr=_remote_addr(), now=utcnow())
    except ops.LoginFailed:
        return render_template("accounts/login.html", next=data.get("next") or "", email=data["email"],
                               error=_("E-Mail-Adresse oder Passwort ist falsch.")), 401
    set_scope(db.session, user.tenant_id)
    if user.totp_confirmed_dt is None and not user.needs_second_factor:
        return _complete_login(user, "demo_tenant_skip", data.get("next"))
    session["pending_login"] = {"uid": str(user.id), "until": utcnow().timestamp() + PENDING_SECONDS,
                                "next": data.get("next") or ""}
    if user.totp_confirmed_dt is None:
        return redirect(url_for("accounts.setup_second_factor"))
    return redirect(url_for("accounts.second_factor"))


@bp.route("/login/code", methods=["GET", "POST"])
@requires(PUBLIC)
def second_factor():
    user = _pending_user()
    if user.totp_confirmed_dt is None:
        return redirect(url_for("accounts.setup_second_factor"))
    if request.method == "GET":
        return render_template("accounts/second_factor.html")
    ops.check_throttle(user.email, _remote_addr(), now=utcnow())
    next_url = session["pending_login"].get("next")
    if request.form.get("recovery_code"):
        data = load_form(RecoveryIn(), template="accounts/second_factor.html")
        if ops.use_recovery_code(user, data["recovery_code"], now=utcnow()):
            flash(_("Sie haben einen Wiederherstellungscode verwendet. Er ist jetzt verbraucht."), "warning")
            return _complete_login(user, "recovery_code", next_url)
        return render_template("accounts/second_factor.html",
                               error=_("Dieser Wiederherstellungscode ist nicht gültig.")), 401
    data = load_form(CodeIn(), template="accounts/second_factor.html")
    if ops.verify_totp(user, data["code"], now=utcnow(), remote_addr=_remote_addr()):
        return _complete_login(user, "totp", next_url)
    return render_template("accounts/second_factor.html",
                           error=_("Der Code ist nicht gültig oder wurde bereits verwendet.")), 401


def _qr_data_uri(uri: str) -> str:
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@bp.route("/login/setup", methods=["GET", "POST"])
@requires(PUBLIC)
def setup_second_factor():
    user = _pending_user()
    if user.totp_confirmed_dt is not None:
        return redirect(url_for("accounts.second_factor"))
    uri = ops.totp_uri(user) if user.totp_secret_ct else ops.begin_totp_enrolment(user, now=utcnow())
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    context = {"qr": _qr_data_uri(uri), "secret": secret}
    if request.method == "GET":
        return render_template("accounts/setup_second_factor.html", **context)
    data = load_form(CodeIn(), template="accounts/setup_second_factor.html", **context)
    try:
        codes = ops.confirm_totp(user, data["code"], now=utcnow())
    except InvalidInput as e:
        return render_template("accounts/setup_second_factor.html", errors=e.errors, **context), 422
    next_url = session["pending_login"].get("next")
    _complete_login(user, "totp_enrolment", next_url)
    return render_template("accounts/recovery_codes.html", codes=codes, next=_safe_next(next_url))


@bp.route("/logout", methods=["POST"])
@requires(AUTHENTICATED)
def logout():
    if g.user.auth_token:
        ops.end_session(g.user.auth_token, now=utcnow())
    logout_user()
    session.clear()
    flash(_("Sie wurden abgemeldet."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/")
@requires(AUTHENTICATED)
def home():
    return render_template("accounts/home.html", role_labels=translated(ROLE_LABELS))


@bp.route("/konto", methods=["GET"])
@requires(AUTHENTICATED)
def account():
    user_tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == g.user.id).order_by(ApiToken.created_dt.desc())
    ).all()
    return render_template("accounts/account.html", tokens=user_tokens, **_account_context())


def _account_context() -> dict:
    return {"role_labels": translated(ROLE_LABELS), "locales": list(LOCALES.items())}


@bp.route("/konto/sprache", methods=["POST"])
@requires(AUTHENTICATED)
def change_locale():
    data = load_form(LocaleIn(), template="accounts/account.html", tokens=[], **_account_context())
    ops.set_locale(g.user, data["locale"], actor=g.user, now=utcnow())
    refresh_locale()  # this request already chose the old language; the message is in the new one
    flash(_("Die Sprache wurde gespeichert."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/konto/passwort", methods=["POST"])
@requires(AUTHENTICATED)
def change_password():
    data = load_form(PasswordChangeIn(), template="accounts/account.html", tokens=[], **_account_context())
    ops.change_password(g.user, current=data["current_password"], new=data["new_password"], now=utcnow())
    flash(_("Ihr Passwort wurde geändert. Andere Sitzungen wurden beendet."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/konto/tokens", methods=["POST"])
@requires(AUTHENTICATED)
def create_token():
    data = load_form(TokenCreateIn(), template="accounts/account.html", tokens=[], **_account_context())
    token, plaintext = tokens.create_token(g.user, name=data["name"], scopes=set(data["scopes"]), now=utcnow())
    return render_template("accounts/token_created.html", token=token, plaintext=plaintext)


@bp.route("/konto/tokens/<uuid:token_id>/widerrufen", methods=["POST"])
@requires(AUTHENTICATED)
def revoke_token(token_id: uuid.UUID):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != g.user.id:
        raise NotFound()
    tokens.revoke_token(token, actor=g.user, now=utcnow())
    flash(_("Der Token wurde widerrufen."), "success")
    return redirect(url_for("accounts.account"))
