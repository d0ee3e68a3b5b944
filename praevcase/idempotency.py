"""Idempotency keys for every POST of the JSON API (``Idempotency-Key`` header), one mechanism for all.

A client that may have to retry a POST (a lost response, a killed worker, a timeout) sends a key
of its choice, unique per intended operation::

    POST /api/v1/cases/<id>/transitions
    Idempotency-Key: 2f1c6a0e-…

* First request: it runs as usual; when its transaction commits, the key row with the response
  (status, body, Location) is part of **that same transaction** (``praevcase.web.run_view`` calls
  :func:`run` in place of the view). An acknowledged response therefore always has its effect
  committed, and a crash before the commit leaves neither the effect nor the key.
* Same key again, same request (method, path and query, body — JSON compared canonically): the
  stored response comes back with the same status and body and ``Idempotent-Replayed: true``;
  nothing runs again.
* Same key, another request: 422 problem+json (``idempotency_key_reused``).
* Same key while the first request is still in flight: 409 (``idempotency_in_flight``) at once;
  the client retries a moment later and then gets the replay (or runs, if the first one failed).
  PostgreSQL: ``pg_try_advisory_xact_lock`` on the key, held until the first one commits or rolls
  back; the unique constraint ``(tenant_id, user_id, key)`` backs it up (and is all SQLite has).
* Only committed answers are stored. A request that ends in an error committed nothing, so its
  retry simply runs again; 5xx answers are never stored.
* Keys are scoped to tenant and user: another user's or another tenant's key is a different key.
* The stored body is sealed under the tenant key (a response may carry revealed values); rows
  expire after :data:`RETENTION` and are deleted by the scheduler's sweep (job
  ``idempotency.purge``) or ``flask --app wsgi idempotency purge``; an erasure deletes the tenant's
  stored responses at once (they may name the erased family).
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from praevcase.database import IdMixin
from praevcase.database import new_id
from praevcase.database import utcnow
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.extensions import db
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import TenantScoped
from praevcase.tenancy import scoped

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: How long a key answers with its stored response
RETENTION = timedelta(hours=24)
#: Printable ASCII without spaces, 1–255 characters (a UUID is the usual choice)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
#: Response headers replayed besides the body
_KEPT_HEADERS = ("Location", "ETag", "X-Pagination")
_TABLE = "idempotency_keys"


class IdempotencyKey(IdMixin, TenantScoped, db.Model):
    """A completed POST of the API under a client's key: its fingerprint and its response."""

    __tablename__ = _TABLE
    __table_args__ = (sa.UniqueConstraint("tenant_id", "user_id", "key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(2000))
    #: SHA-256 (hex) of method, path with query and the canonical body
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column(sa.Integer)
    content_type: Mapped[str | None] = mapped_column(sa.String(200))
    headers: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    #: The response body, sealed under the tenant key (it may carry revealed values)
    response_ct: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_dt: Mapped[datetime] = mapped_column()
    expires_dt: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<IdempotencyKey {self.id} {self.method} {self.status_code}>"


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"

    def default_message(self) -> str:
        return _("Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet.")


class IdempotencyInFlight(Conflict):
    code = "idempotency_in_flight"

    def default_message(self) -> str:
        return _("Eine Anfrage mit diesem Idempotency-Key wird gerade bearbeitet. Bitte gleich erneut senden.")


# --- the request boundary ---------------------------------------------------------------------------


def applies() -> bool:
    """A POST of the JSON API carrying the header, by a signed-in caller."""
    return (request.method == "POST" and request.path.startswith("/api/v1/") and HEADER in request.headers
            and g.get("user") is not None)


def fingerprint() -> str:
    """Method, path with query, body; a JSON body canonically (key order and spacing do not count)."""
    body = _canonical_body()
    h = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.rstrip("?").encode(), hashlib.sha256(body).digest()):
        h.update(len(part).to_bytes(4, "big") + part)
    return h.hexdigest()


def _canonical_body() -> bytes:
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # read through the form parser (get_data() first would leave the view an empty form)
        files = []
        for name, f in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            files.append([name, f.filename, hashlib.sha256(f.stream.read()).hexdigest()])
            f.stream.seek(0)
        form = sorted(request.form.items(multi=True))
        return json.dumps({"form": form, "files": files}, sort_keys=True, ensure_ascii=False).encode()
    raw = request.get_data(cache=True)
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        return raw


def _lock_id(tenant_id: uuid.UUID, user_id: uuid.UUID, key: str) -> int:
    digest = hashlib.sha256(f"praevcase-idempotency|{tenant_id}|{user_id}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(lock_id: int) -> bool:
    """PostgreSQL: the key's advisory lock, held until this transaction ends, so a duplicate in flight is
    told so at once instead of waiting (SQLite serialises writers and has the unique constraint)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    return bool(db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_id))))


def _key_from_header() -> str:
    key = request.headers.get(HEADER, "")
    if not _KEY.match(key):
        raise InvalidInput(errors={HEADER: [_("1 bis 255 druckbare ASCII-Zeichen ohne Leerzeichen.")]},
                           code="invalid_idempotency_key")
    return key


def run(view: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Run *view* under the request's idempotency key, if it has one (called by run_view before commit)."""
    if not applies():
        return view(*args, **kwargs)
    key, user, now = _key_from_header(), g.user, utcnow()
    fp = fingerprint()
    if not _try_lock(_lock_id(user.tenant_id, user.id, key)):
        raise IdempotencyInFlight()
    row = db.session.scalar(sa.select(IdempotencyKey).where(
        IdempotencyKey.tenant_id == user.tenant_id, IdempotencyKey.user_id == user.id, IdempotencyKey.key == key))
    if row is not None and row.expires_dt <= now:
        db.session.delete(row)
        db.session.flush()
        row = None
    if row is not None:
        if row.fingerprint != fp:
            raise IdempotencyKeyReused()
        return _replay(row)
    response = current_app.make_response(view(*args, **kwargs))
    if response.status_code >= 500 or response.is_streamed or response.direct_passthrough:
        return response
    _store(response, key=key, fp=fp, user=user, now=now)
    return response


def _store(response: Response, *, key: str, fp: str, user: Any, now: datetime) -> None:
    from praevcase.keys import seal_tenant_secret
    from praevcase.tenants.models import Tenant

    row_id = new_id()
    tenant = db.session.get(Tenant, user.tenant_id)
    body = response.get_data(as_text=True)
    row = IdempotencyKey(id=row_id, tenant_id=user.tenant_id, user_id=user.id, key=key, method=request.method,
                         path=request.path[:2000], fingerprint=fp, status_code=response.status_code,
                         content_type=response.content_type,
                         headers={h: response.headers[h] for h in _KEPT_HEADERS if h in response.headers},
                         response_ct=seal_tenant_secret(tenant, _TABLE, "response", row_id, body),
                         created_dt=now, expires_dt=now + RETENTION)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # only without the advisory lock (SQLite): the other one won
        raise IdempotencyInFlight() from None


def _replay(row: IdempotencyKey) -> Response:
    from praevcase.keys import open_tenant_secret
    from praevcase.tenants.models import Tenant

    body = open_tenant_secret(db.session.get(Tenant, row.tenant_id), _TABLE, "response", row.id, row.response_ct)
    response = Response(body, status=row.status_code, content_type=row.content_type)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


# --- retention, erasure, OpenAPI, CLI ---------------------------------------------------------------


def purge_expired(*, now: datetime, batch: int = 5000) -> int:
    """Delete expired keys (all tenants), in batches; the caller commits. Returns how many went."""
    total = 0
    with scoped(db.session, ALL_TENANTS):
        while True:
            ids = sa.select(IdempotencyKey.id).where(IdempotencyKey.expires_dt <= now).limit(batch)
            n = db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids.scalar_subquery()))
                                   .execution_options(synchronize_session=False)).rowcount
            total += n
            if n < batch:
                return total


def _erase_stored_responses(family: Any, now: datetime) -> int:
    """A stored response may name the erased family: the tenant's stored responses go (retries then run again)."""
    return db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.tenant_id == family.tenant_id)
                              .execution_options(synchronize_session=False)).rowcount


def _register_hooks() -> None:
    from praevcase.privacy.erasure import register_erasure_hook
    from praevcase.reminders.registry import register_job

    register_erasure_hook(_erase_stored_responses)

    def _purge_job(*, now: datetime) -> int:
        return purge_expired(now=now)

    register_job("idempotency.purge", _purge_job)


_PARAMETER = {
    "in": "header", "name": HEADER, "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "Optional, any printable ASCII string (a UUID). Sent again with the same request within 24 h, "
                   "the stored response of the first one comes back (header `Idempotent-Replayed: true`) and "
                   "nothing runs twice; with another request 422 (`idempotency_key_reused`); while the first one "
                   "is still running 409 (`idempotency_in_flight`). Keys are per user and tenant.",
}


def document(api: Any) -> None:
    """Add the header parameter to every POST operation of the OpenAPI document."""
    api.spec.components.parameter("IdempotencyKey", "header", dict(_PARAMETER))
    for path, operations in getattr(api.spec, "_paths", {}).items():
        post = operations.get("post") if path.startswith("/api/v1/") else None
        if post is not None:
            post.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})


cli = AppGroup("idempotency", help="Idempotency keys of the API")


@cli.command("purge")
def purge_command() -> None:
    """Delete expired idempotency keys (the scheduler's sweep does this too)."""
    n = purge_expired(now=utcnow())
    db.session.commit()
    click.echo(f"{n} abgelaufene Idempotency-Keys gelöscht")


def init_app(app: Flask) -> None:
    """Wire the mechanism into *app* (create_app): OpenAPI, CLI; run_view calls :func:`run`."""
    document(app.extensions["praevcase_api"])
    app.cli.add_command(cli)


_register_hooks()
