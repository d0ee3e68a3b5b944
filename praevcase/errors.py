"""Domain errors and their one mapping to HTTP: problem+json for the API, German pages for the web."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask import g
from flask import jsonify
from flask import make_response
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import PendingRollbackError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("praevcase.errors")


class DomainError(Exception):
    """An expected refusal with a stable code; *message* is shown to the user (German)."""

    status_code = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, message: str | None = None, *, errors: Any = None, code: str | None = None):
        super().__init__(message or self.default_message())
        self.message = message or self.default_message()
        self.errors = errors
        if code:
            self.code = code

    def default_message(self) -> str:
        return _("Die Anfrage ist ungültig.")


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"
    title = "Authentication required"

    def default_message(self) -> str:
        return _("Bitte melden Sie sich an.")


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"
    title = "Forbidden"

    def default_message(self) -> str:
        return _("Dafür fehlt Ihnen die Berechtigung.")


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    title = "Not found"

    def default_message(self) -> str:
        return _("Das Gesuchte wurde nicht gefunden.")


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    title = "Conflict"

    def default_message(self) -> str:
        return _("Die Aktion ist im aktuellen Zustand nicht möglich.")


class StaleObject(Conflict):
    code = "stale"

    def default_message(self) -> str:
        return _("Jemand anderes hat diesen Datensatz inzwischen geändert. Bitte laden Sie die Seite neu.")


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"
    title = "Invalid input"

    def default_message(self) -> str:
        return _("Bitte prüfen Sie die markierten Angaben.")


class Throttled(DomainError):
    status_code = 429
    code = "throttled"
    title = "Too many attempts"

    def default_message(self) -> str:
        return _("Zu viele Fehlversuche. Bitte warten Sie einige Minuten.")


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("invalid_input", "Invalid input"),
    429: ("throttled", "Too many requests"),
    500: ("internal_error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


def _messages() -> dict[int, str]:
    return {
        400: _("Die Anfrage ist ungültig."),
        401: _("Bitte melden Sie sich an."),
        403: _("Dafür fehlt Ihnen die Berechtigung."),
        404: _("Das Gesuchte wurde nicht gefunden."),
        405: _("Diese Methode ist hier nicht erlaubt."),
        409: _("Die Aktion ist im aktuellen Zustand nicht möglich."),
        413: _("Die Anfrage ist zu groß."),
        415: _("Dieses Datenformat wird nicht unterstützt."),
        422: _("Bitte prüfen Sie die markierten Angaben."),
        429: _("Zu viele Anfragen. Bitte warten Sie einige Minuten."),
        500: _("Ein interner Fehler ist aufgetreten. Er wurde protokolliert."),
        503: _("Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es gleich noch einmal."),
    }


def wants_problem_json() -> bool:
    """API requests get problem+json; everything else a German HTML page."""
    return request.path.startswith("/api/")


def problem(status: int, code: str, title: str, detail: str, errors: Any = None):
    """An RFC 9457 problem response with a stable ``code``."""
    body = {
        "type": f"urn:praevcase:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "request_id": g.get("request_id"),
    }
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def error_response(status: int, code: str, title: str, detail: str, errors: Any = None):
    """Render one error for the current request, as problem+json or as a German page."""
    from praevcase.extensions import db

    db.session.rollback()
    if wants_problem_json():
        return problem(status, code, title, detail, errors)
    template = f"errors/{status}.html" if status in (401, 403, 404, 409, 422, 429, 503) else "errors/generic.html"
    return render_template(template, status=status, code=code, detail=detail, errors=errors), status


def register_error_handlers(app: Flask) -> None:
    """Map every expected failure to one response shape."""

    @app.errorhandler(DomainError)
    def _domain(e: DomainError):
        response = error_response(e.status_code, e.code, e.title, e.message, e.errors)
        _keep_audit_events(e)
        return response

    @app.errorhandler(ValidationError)
    def _validation(e: ValidationError):
        return error_response(422, "invalid_input", "Invalid input", _messages()[422], e.messages)

    @app.errorhandler(StaleDataError)
    def _stale(e: StaleDataError):
        err = StaleObject()
        return error_response(409, err.code, err.title, err.message)

    @app.errorhandler(CSRFError)
    def _csrf(e: CSRFError):
        return error_response(
            400, "csrf_failed", "CSRF check failed",
            _("Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu und senden Sie es erneut."),
        )

    @app.errorhandler(DBAPIError)
    def _database(e: DBAPIError):
        if e.connection_invalidated or _is_connection_error(e):
            log.warning("database unavailable: %s", type(e.orig).__name__)
            return unavailable()
        log.exception("database error")
        return error_response(500, "internal_error", "Internal server error", _messages()[500])

    @app.errorhandler(PendingRollbackError)
    def _pending_rollback(e: PendingRollbackError):
        # the connection broke earlier in this request (a hook swallowed the first error)
        log.warning("database unavailable: pending rollback")
        return unavailable()

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        status = e.code or 500
        code, title = _HTTP_CODES.get(status, ("error", e.name))
        errors = None
        data = getattr(e, "data", None)
        if isinstance(data, dict) and "messages" in data:  # webargs/flask-smorest validation
            errors = _flatten_locations(data["messages"])
        detail = _messages().get(status, e.description or "")
        return error_response(status, code, title, detail, errors)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("unhandled error", extra={"request_id": g.get("request_id")})
        return error_response(500, "internal_error", "Internal server error", _messages()[500])


def _keep_audit_events(e: Exception) -> None:
    """A refusal that must stay on record (a denied reveal) is written after the rollback."""
    events = getattr(e, "audit_events", None)
    if not events:
        return
    from praevcase.audit.operations import PENDING_KEY
    from praevcase.extensions import db

    db.session.info.setdefault(PENDING_KEY, []).extend(events)
    db.session.commit()


#: Seconds a client is asked to wait when the database is unreachable (restart, failover)
RETRY_AFTER_SECONDS = 5


def unavailable():
    """503 (problem+json or the German page) with Retry-After: the database is not reachable right now."""
    _answer_as_anonymous()
    response = make_response(error_response(503, "unavailable", "Service unavailable", _messages()[503]))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _answer_as_anonymous() -> None:
    """Without a database the error page must not load anything: no user (its rows are expired after the
    rollback, the login manager would look the session up again), so locale and page come from the request."""
    from praevcase.extensions import login_manager

    g.user = None
    g._login_user = login_manager.anonymous_user()


def _is_connection_error(e: DBAPIError) -> bool:
    """Connection lost, refused, or the server shutting down/starting up (psycopg's OperationalError and its
    subclasses such as AdminShutdown, CannotConnectNow; InterfaceError for a closed connection)."""
    if isinstance(e, (OperationalError, InterfaceError)):
        return True
    name = type(e.orig).__name__
    return name in {"OperationalError", "InterfaceError", "AdminShutdown", "ConnectionFailure", "CannotConnectNow",
                    "CrashShutdown"}


def _flatten_locations(messages: dict[str, Any]) -> Any:
    # webargs nests errors under the location ("json", "query"); callers want the fields
    if len(messages) == 1:
        return next(iter(messages.values()))
    return messages
