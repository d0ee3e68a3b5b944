"""User accounts and what authenticates them."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.i18n import N_
from praevcase.tenancy import TenantScoped
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.tenants.models import agency_fk


class Role(str, enum.Enum):
    """Roles of DESIGN.md §2; "Lotse" is an assignment, not a role."""

    intake = "intake"
    team_member = "team_member"
    coordinator = "coordinator"
    school_staff = "school_staff"
    dpo = "dpo"
    admin = "admin"
    statistics = "statistics"


#: German labels (CLI, reports); pages show ``praevcase.i18n.translated(ROLE_LABELS)``.
ROLE_LABELS = {
    Role.intake: N_("Erstkontakt (Erfassung)"),
    Role.team_member: N_("Präventionskraft"),
    Role.coordinator: N_("Koordination (Präventionsbüro)"),
    Role.school_staff: N_("Kita / Schule"),
    Role.dpo: N_("Datenschutz"),
    Role.admin: N_("Administration"),
    Role.statistics: N_("Statistik / Planung"),
}


class User(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A staff member of one agency of one tenant."""

    __tablename__ = "users"
    __table_args__ = (agency_fk(name="fk_users_agency_same_tenant"),)

    #: Login name, unique across the installation, stored lower-case
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    agency_id: Mapped[uuid.UUID] = mapped_column()
    #: argon2id hash (argon2-cffi); never the password
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    password_changed_dt: Mapped[datetime | None] = mapped_column()
    #: TOTP seed, AES-GCM ciphertext under the tenant key (row-bound)
    totp_secret_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: Set once the user proved the enrolled authenticator works
    totp_confirmed_dt: Mapped[datetime | None] = mapped_column()
    #: Last accepted TOTP time step; a code of this step or earlier is a replay
    totp_last_step: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    disabled_dt: Mapped[datetime | None] = mapped_column()
    last_login_dt: Mapped[datetime | None] = mapped_column()
    #: Preferred UI language (de or en)
    locale: Mapped[str] = mapped_column(sa.String(5), default="de")

    agency: Mapped[Agency] = relationship(Agency, viewonly=True, lazy="joined")
    tenant: Mapped[Tenant] = relationship(viewonly=True, lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def needs_second_factor(self) -> bool:
        """Every staff account needs TOTP, except in a demo tenant."""
        return not self.tenant.is_demo

    def __repr__(self) -> str:
        return f"<User {self.id}>"

    # Flask-Login protocol: the id in the cookie is the server-side session token.
    auth_token = None
    #: Roles an API token narrows this request to (None: a browser session, all roles)
    token_scopes = None
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        return self.auth_token


class UserRole(TenantScoped, db.Model):
    """One role held by a user."""

    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, create_constraint=True, length=32, name="role",
                validate_strings=True),
        primary_key=True,
    )
    user: Mapped[User] = relationship(back_populates="role_rows")


class AuthSession(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A server-side login session; the cookie only holds its random token."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: SHA-256 of the token in the cookie
    token_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    last_seen_dt: Mapped[datetime] = mapped_column()
    expires_dt: Mapped[datetime] = mapped_column()
    ended_dt: Mapped[datetime | None] = mapped_column()
    #: logout, disabled, idle, expired, admin, password_changed
    end_reason: Mapped[str | None] = mapped_column(sa.String(20))

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A personal API token: shown once, stored hashed, revocable, limited to a subset of roles."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: First characters of the token, to recognise it in lists
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: Roles this token may act with (intersected with the user's roles at use)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    expires_dt: Mapped[datetime | None] = mapped_column()
    last_used_dt: Mapped[datetime | None] = mapped_column()
    revoked_dt: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="joined")


class RecoveryCode(IdMixin, TenantScoped, db.Model):
    """A single-use recovery code for a lost authenticator, stored as an argon2 hash."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(200))
    used_dt: Mapped[datetime | None] = mapped_column()


class LoginAttempt(IdMixin, db.Model):
    """A sign-in attempt, kept for throttling (not tenant-scoped: it precedes knowing the tenant)."""

    __tablename__ = "login_attempts"
    __table_args__ = (sa.Index("ix_login_attempts_email_dt", "email_hash", "created_dt"),)

    #: SHA-256 of the lower-cased e-mail entered, so no address list builds up here
    email_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(45), index=True)
    created_dt: Mapped[datetime] = mapped_column()
    #: password_ok, password_wrong, totp_ok, totp_wrong, throttled
    outcome: Mapped[str] = mapped_column(sa.String(20))
