"""Personal API tokens: shown once, stored as SHA-256, revocable, narrowed to chosen roles."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa

from praevcase.accounts.models import ApiToken
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.audit.operations import record
from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.errors import Unauthenticated
from praevcase.extensions import db
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped

TOKEN_PREFIX = "pc_"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def create_token(user: User, *, name: str, scopes: set[Role], now: datetime,
                 expires_dt: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for *user*; returns the row and the plaintext (never stored)."""
    if not scopes <= user.roles:
        raise InvalidInput(errors={"scopes": ["Ein Token kann nur eigene Rollen erhalten."]})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, tenant_id=user.tenant_id, name=name, prefix=plaintext[:10],
                     token_hash=_hash(plaintext), scopes=sorted(r.value for r in scopes),
                     created_dt=now, expires_dt=expires_dt)
    db.session.add(token)
    db.session.flush()
    record(db.session, "auth.token.create", now=now, actor=user, object_type="api_token",
           object_id=token.id, details={"scopes": token.scopes})
    return token, plaintext


def revoke_token(token: ApiToken, *, actor: User, now: datetime) -> None:
    """Revoke a token; it stops working with the next request."""
    if token.revoked_dt is None:
        token.revoked_dt = now
        record(db.session, "auth.token.revoke", now=now, actor=actor, object_type="api_token",
               object_id=token.id)


def user_for_bearer(header: str | None, *, now: datetime | None = None) -> User | None:
    """Resolve an ``Authorization: Bearer pc_…`` header. None without a header; 401 if invalid."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
        raise Unauthenticated("Ungültiger API-Token.")
    now = now or utcnow()
    with scoped(db.session, ALL_TENANTS):
        token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _hash(value.strip())))
        if (token is None or token.revoked_dt is not None or not token.user.is_active
                or (token.expires_dt is not None and token.expires_dt <= now)):
            raise Unauthenticated("Ungültiger oder widerrufener API-Token.")
        user = token.user
    if token.last_used_dt is None or (now - token.last_used_dt).total_seconds() > 300:
        token.last_used_dt = now
    user.token_scopes = frozenset(token.scopes)
    return user
