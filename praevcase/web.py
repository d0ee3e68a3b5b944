"""The request boundary: who is asking, may they, one transaction per request, safe headers."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from praevcase.errors import PermissionDenied
from praevcase.errors import Unauthenticated
from praevcase.extensions import db
from praevcase.permissions import PUBLIC
from praevcase.permissions import can
from praevcase.permissions import endpoint_permission
from praevcase.tenancy import set_scope

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def run_view(permission: str, view: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Check *permission*, run the view, commit on success, roll back on failure.

    This is the one place where requests commit (operations only flush), so the audit events
    of a request are written in the same transaction as what they record.
    """
    user = g.get("user")
    if permission != PUBLIC:
        if user is None:
            if is_api_request():
                raise Unauthenticated()
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        if not can(user, permission):
            raise PermissionDenied()
    from praevcase import idempotency

    try:
        rv = idempotency.run(view, args, kwargs)  # API POST with Idempotency-Key: key row in this transaction
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return rv


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    db.session.info["request_id"] = g.request_id
    if request.endpoint is not None:
        view = current_app.view_functions.get(request.endpoint)
        if endpoint_permission(view, request.endpoint) is None:
            raise PermissionDenied()  # deny by default: a route that declares nothing is closed
    g.user = None
    if is_api_request():
        from praevcase.accounts.tokens import user_for_bearer

        g.user = user_for_bearer(request.headers.get("Authorization"))
    elif current_user.is_authenticated:
        g.user = current_user._get_current_object()
    elif session.pop("_user_id", None) is not None:
        # the cookie names a session that ended (timeout, logout elsewhere, account disabled)
        flash(_("Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."), "warning")
    if g.user is not None:
        set_scope(db.session, g.user.tenant_id)


def _security_headers(response: Any) -> Any:
    h = response.headers
    h.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if g.get("user") is not None or request.path.startswith(("/api/", "/login")):
        # personal data must not sit in shared or browser caches
        h["Cache-Control"] = "no-store"
    if g.get("request_id"):
        h.setdefault("X-Request-ID", g.request_id)
    return response


def register_request_hooks(app: Flask) -> None:
    """Install the before/after request hooks of the boundary."""
    app.before_request(_start_request)
    app.after_request(_security_headers)
