"""Use cases of accounts: sign-in, second factor, sessions, user administration.

Operations take the actor and the clock as arguments, flush and never commit.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from datetime import timedelta

import pyotp
import sqlalchemy as sa
from flask import current_app

from praevcase.accounts.models import AuthSession
from praevcase.accounts.models import LoginAttempt
from praevcase.accounts.models import RecoveryCode
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.models import UserRole
from praevcase.accounts.passwords import burn_time
from praevcase.accounts.passwords import hash_password
from praevcase.accounts.passwords import needs_rehash
from praevcase.accounts.passwords import password_problems
from praevcase.accounts.passwords import verify_password
from praevcase.audit.operations import record
from praevcase.database import new_id
from praevcase.errors import Conflict
from praevcase.errors import InvalidInput
from praevcase.errors import Throttled
from praevcase.extensions import db
from praevcase.i18n import LOCALES
from praevcase.i18n import N_
from praevcase.keys import open_tenant_secret
from praevcase.keys import seal_tenant_secret
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant

TOTP_ISSUER = "praevcase"
RECOVERY_CODE_COUNT = 10


class LoginFailed(Exception):
    """Wrong e-mail or password (deliberately not saying which)."""


def _sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


# --- sign-in ----------------------------------------------------------------------------------


def check_throttle(email: str, remote_addr: str | None, *, now: datetime) -> None:
    """Refuse further attempts after too many failures for one account or one address."""
    cfg = current_app.config
    since = now - timedelta(minutes=cfg["LOGIN_THROTTLE_MINUTES"])
    failed = ("password_wrong", "totp_wrong")
    q = sa.select(sa.func.count()).select_from(LoginAttempt).where(
        LoginAttempt.created_dt >= since, LoginAttempt.outcome.in_(failed)
    )
    per_account = db.session.scalar(q.where(LoginAttempt.email_hash == _sha256(normalize_email(email))))
    per_address = db.session.scalar(q.where(LoginAttempt.remote_addr == remote_addr)) if remote_addr else 0
    if per_account >= cfg["LOGIN_THROTTLE_PER_ACCOUNT"] or per_address >= cfg["LOGIN_THROTTLE_PER_ADDRESS"]:
        raise Throttled()


def note_attempt(email: str, remote_addr: str | None, outcome: str, *, now: datetime) -> None:
    """Remember one sign-in attempt for throttling."""
    db.session.add(LoginAttempt(email_hash=_sha256(normalize_email(email)), remote_addr=remote_addr,
                                created_dt=now, outcome=outcome))


def authenticate_password(email: str, password: str, *, remote_addr: str | None, now: datetime) -> User:
    """First step of sign-in. Raises LoginFailed or Throttled; records the attempt either way."""
    check_throttle(email, remote_addr, now=now)
    with scoped(db.session, ALL_TENANTS):
        user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    if user is None:
        burn_time(password)
        note_attempt(email, remote_addr, "password_wrong", now=now)
        record(db.session, "auth.login", now=now, outcome="failed", reason="unknown_account")
        raise LoginFailed()
    if not verify_password(user.password_hash, password) or not user.is_active:
        note_attempt(email, remote_addr, "password_wrong", now=now)
        record(db.session, "auth.login", now=now, actor=user, outcome="failed",
               reason="wrong_password" if user.is_active else "account_disabled")
        raise LoginFailed()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    note_attempt(email, remote_addr, "password_ok", now=now)
    return user


def _totp(user: User, secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, issuer=TOTP_ISSUER, name=user.email)


def begin_totp_enrolment(user: User, *, now: datetime) -> str:
    """Create a new (unconfirmed) TOTP seed for *user*; returns the otpauth:// URI for the QR code."""
    secret = pyotp.random_base32(32)
    user.totp_secret_ct = seal_tenant_secret(user.tenant, "users", "totp_secret", user.id, secret)
    user.totp_confirmed_dt = None
    user.totp_last_step = 0
    db.session.flush()
    return _totp(user, secret).provisioning_uri()


def totp_uri(user: User) -> str:
    """The otpauth:// URI of the enrolled (maybe unconfirmed) seed."""
    return _totp(user, _secret(user)).provisioning_uri()


def _secret(user: User) -> str:
    if user.totp_secret_ct is None:
        raise Conflict("Für dieses Konto ist kein zweiter Faktor eingerichtet.")
    return open_tenant_secret(user.tenant, "users", "totp_secret", user.id, user.totp_secret_ct)


def verify_totp(user: User, code: str, *, now: datetime, remote_addr: str | None = None) -> bool:
    """Accept a 6-digit code of the current step ±1, each step only once (no replay)."""
    code = "".join(ch for ch in code if ch.isdigit())
    totp = _totp(user, _secret(user))
    step_now = int(now.timestamp()) // totp.interval
    for step in (step_now - 1, step_now, step_now + 1):
        if len(code) == totp.digits and secrets.compare_digest(totp.generate_otp(step), code):
            if step <= user.totp_last_step:
                record(db.session, "auth.second_factor", now=now, actor=user, outcome="failed", reason="replayed_code")
                note_attempt(user.email, remote_addr, "totp_wrong", now=now)
                return False
            user.totp_last_step = step
            return True
    note_attempt(user.email, remote_addr, "totp_wrong", now=now)
    record(db.session, "auth.second_factor", now=now, actor=user, outcome="failed", reason="wrong_code")
    return False


def confirm_totp(user: User, code: str, *, now: datetime) -> list[str]:
    """Finish enrolment with a first valid code; returns fresh recovery codes (shown once)."""
    if not verify_totp(user, code, now=now):
        raise InvalidInput(errors={"code": [N_("Der Code ist nicht gültig. Bitte den aktuellen Code eingeben.")]})
    user.totp_confirmed_dt = now
    record(db.session, "auth.second_factor.enrol", now=now, actor=user)
    return new_recovery_codes(user, now=now)


def new_recovery_codes(user: User, *, now: datetime) -> list[str]:
    """Replace the user's recovery codes; only hashes are stored."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, tenant_id=user.tenant_id, code_hash=hash_password(code)))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str, *, now: datetime) -> bool:
    """Accept an unused recovery code once."""
    code = code.strip().lower()
    rows = db.session.scalars(
        sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_dt.is_(None))
    ).all()
    for row in rows:
        if verify_password(row.code_hash, code):
            row.used_dt = now
            record(db.session, "auth.recovery_code", now=now, actor=user)
            return True
    record(db.session, "auth.recovery_code", now=now, actor=user, outcome="failed")
    return False


# --- sessions ---------------------------------------------------------------------------------


def start_session(user: User, *, now: datetime, second_factor: str) -> str:
    """Open a server-side session after full authentication; returns the cookie token."""
    token = secrets.token_urlsafe(32)
    max_hours = current_app.config["SESSION_MAX_HOURS"]
    db.session.add(AuthSession(user_id=user.id, tenant_id=user.tenant_id, token_hash=_sha256(token),
                               created_dt=now, last_seen_dt=now, expires_dt=now + timedelta(hours=max_hours)))
    user.last_login_dt = now
    record(db.session, "auth.login", now=now, actor=user, details={"second_factor": second_factor})
    db.session.flush()
    return token


def load_session(token: str, *, now: datetime) -> User | None:
    """The user of a live session, or None (ended, idle too long, past its lifetime, disabled)."""
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    with scoped(db.session, ALL_TENANTS):
        s = db.session.scalar(sa.select(AuthSession).where(AuthSession.token_hash == _sha256(token)))
        if s is None or s.ended_dt is not None:
            return None
        reason = None
        if not s.user.is_active:
            reason = "disabled"
        elif now - s.last_seen_dt > idle:
            reason = "idle"
        elif now >= s.expires_dt:
            reason = "expired"
        if reason:
            s.ended_dt, s.end_reason = now, reason
            return None
        if now - s.last_seen_dt > timedelta(seconds=60):  # keep writes rare
            s.last_seen_dt = now
        user = s.user
        user.auth_token = token
        return user


def end_session(token: str, *, now: datetime, reason: str = "logout") -> None:
    """End one session server-side (logout)."""
    s = db.session.scalar(sa.select(AuthSession).where(AuthSession.token_hash == _sha256(token)))
    if s is not None and s.ended_dt is None:
        s.ended_dt, s.end_reason = now, reason
        record(db.session, "auth.logout", now=now, actor=s.user, details={"reason": reason})


def end_all_sessions(user: User, *, now: datetime, reason: str) -> int:
    """End every open session of *user* (disable, password change, admin action)."""
    result = db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.ended_dt.is_(None))
        .values(ended_dt=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --- administration ---------------------------------------------------------------------------


def create_user(*, tenant: Tenant, agency: Agency, email: str, display_name: str, roles: set[Role],
                password: str, actor: User | None, now: datetime) -> User:
    """Create a staff account; the password must pass the policy."""
    email = normalize_email(email)
    problems = password_problems(password, email=email)
    if problems:
        raise InvalidInput(errors={"password": problems})
    if agency.tenant_id != tenant.id:
        raise InvalidInput(errors={"agency_id": [N_("Unbekannte Stelle.")]})
    with scoped(db.session, ALL_TENANTS):
        taken = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == email))
    if taken:
        raise InvalidInput(errors={"email": [N_("Diese E-Mail-Adresse ist bereits vergeben.")]})
    user = User(id=new_id(), tenant_id=tenant.id, agency_id=agency.id, email=email,
                display_name=display_name, password_hash=hash_password(password), created_dt=now,
                password_changed_dt=now)
    user.role_rows = [UserRole(role=r, tenant_id=tenant.id) for r in sorted(roles, key=lambda r: r.value)]
    db.session.add(user)
    db.session.flush()
    record(db.session, "admin.user.create", now=now, actor=actor, tenant_id=tenant.id, object_type="user",
           object_id=user.id, details={"roles": sorted(r.value for r in roles)})
    return user


def update_user(user: User, *, display_name: str, agency: Agency, roles: set[Role], actor: User,
                now: datetime) -> User:
    """Change name, agency and roles; an admin cannot remove their own admin role."""
    if user.id == actor.id and Role.admin not in roles:
        raise InvalidInput(errors={"roles": [N_("Sie können sich die Administration nicht selbst entziehen.")]})
    old_roles = user.roles
    user.display_name = display_name
    user.agency_id = agency.id
    user.role_rows = [r for r in user.role_rows if r.role in roles] + [
        UserRole(role=r, tenant_id=user.tenant_id) for r in sorted(roles - old_roles, key=lambda r: r.value)
    ]
    db.session.flush()
    record(db.session, "admin.user.update", now=now, actor=actor, object_type="user", object_id=user.id,
           details={"roles_added": sorted(r.value for r in roles - old_roles),
                    "roles_removed": sorted(r.value for r in old_roles - roles)})
    return user


def set_user_active(user: User, active: bool, *, actor: User, now: datetime) -> None:
    """Disable (ending every session at once) or re-enable an account."""
    if user.id == actor.id and not active:
        raise InvalidInput(errors={"is_active": [N_("Sie können Ihr eigenes Konto nicht sperren.")]})
    user.is_active = active
    user.disabled_dt = None if active else now
    if not active:
        end_all_sessions(user, now=now, reason="disabled")
    record(db.session, "admin.user.enable" if active else "admin.user.disable", now=now, actor=actor,
           object_type="user", object_id=user.id)


def reset_second_factor(user: User, *, actor: User, now: datetime) -> None:
    """Forget the user's authenticator; they enrol a new one at the next sign-in."""
    user.totp_secret_ct = None
    user.totp_confirmed_dt = None
    user.totp_last_step = 0
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_all_sessions(user, now=now, reason="admin")
    record(db.session, "admin.user.reset_second_factor", now=now, actor=actor, object_type="user",
           object_id=user.id)


def change_password(user: User, *, current: str, new: str, now: datetime) -> None:
    """Change one's own password; other sessions end."""
    if not verify_password(user.password_hash, current):
        raise InvalidInput(errors={"current_password": [N_("Das bisherige Passwort stimmt nicht.")]})
    problems = password_problems(new, email=user.email)
    if problems:
        raise InvalidInput(errors={"new_password": problems})
    user.password_hash = hash_password(new)
    user.password_changed_dt = now
    db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.ended_dt.is_(None),
               AuthSession.token_hash != _sha256(user.auth_token or ""))
        .values(ended_dt=now, end_reason="password_changed")
        .execution_options(synchronize_session=False)
    )
    record(db.session, "auth.password_change", now=now, actor=user)


def set_password_by_admin(user: User, *, new: str, actor: User, now: datetime) -> None:
    """An admin sets a new first password (forgotten password); every session of the user ends."""
    problems = password_problems(new, email=user.email)
    if problems:
        raise InvalidInput(errors={"password": problems})
    user.password_hash = hash_password(new)
    user.password_changed_dt = now
    end_all_sessions(user, now=now, reason="password_changed")
    record(db.session, "admin.user.set_password", now=now, actor=actor, object_type="user", object_id=user.id)


def set_locale(user: User, locale: str, *, actor: User, now: datetime) -> None:
    """Choose the language of the pages for *user* ("de" or "en"; German is the default)."""
    if locale not in LOCALES:
        raise InvalidInput(errors={"locale": [N_("Bitte eine der angebotenen Sprachen wählen.")]})
    previous = user.locale
    user.locale = locale
    db.session.flush()
    record(db.session, "account.locale", now=now, actor=actor, object_type="user", object_id=user.id,
           details={"from": previous, "to": locale})
