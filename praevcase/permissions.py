"""Deny by default: every route names its permission, every role grants an explicit set.

A route without a declared permission is refused at runtime (and a test fails on it).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from praevcase.accounts.models import Role

#: Routes anyone may reach (login, static files, the OpenAPI document)
PUBLIC = "public"
#: Routes any signed-in user may reach (start page, own profile, logout)
AUTHENTICATED = "authenticated"

#: Every permission with a German description (shown on the admin role overview).
PERMISSIONS: dict[str, str] = {
    PUBLIC: "Öffentlich",
    AUTHENTICATED: "Angemeldet",
    "directory.read": "Verzeichnis der Stellen lesen",
    "admin.agencies": "Stellen verwalten",
    "admin.users": "Benutzerkonten verwalten",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.intake: frozenset({"directory.read"}),
    Role.team_member: frozenset({"directory.read"}),
    Role.coordinator: frozenset({"directory.read"}),
    Role.school_staff: frozenset({"directory.read"}),
    Role.dpo: frozenset({"directory.read"}),
    Role.admin: frozenset({"directory.read", "admin.agencies", "admin.users"}),
    Role.statistics: frozenset(),
}

#: Endpoints of libraries (not our functions) with their permission.
LIBRARY_ENDPOINTS: dict[str, str] = {
    "static": PUBLIC,
    "api-docs.openapi_json": PUBLIC,
}


def grant(role: Role, *permissions: str) -> None:
    """Let feature packages add their permissions to a role at import time."""
    for p in permissions:
        if p not in PERMISSIONS:
            raise KeyError(f"unknown permission {p!r}")
    ROLE_PERMISSIONS[role] = ROLE_PERMISSIONS[role] | frozenset(permissions)


def declare(name: str, description: str) -> str:
    """Register a permission name (once) and return it."""
    PERMISSIONS.setdefault(name, description)
    return name


def permissions_of(roles: frozenset[Role]) -> frozenset[str]:
    """All permissions granted by *roles*."""
    out: frozenset[str] = frozenset()
    for role in roles:
        out |= ROLE_PERMISSIONS.get(role, frozenset())
    return out


def can(user: Any, permission: str) -> bool:
    """May *user* (or None for anonymous) use *permission*?"""
    if permission == PUBLIC:
        return True
    if user is None or not getattr(user, "is_active", False):
        return False
    if permission == AUTHENTICATED:
        return True
    return permission in permissions_of(effective_roles(user))


def effective_roles(user: Any) -> frozenset[Role]:
    """The user's roles, narrowed to an API token's scopes when the request came with one."""
    roles = user.roles
    scopes = getattr(user, "token_scopes", None)
    if scopes is not None:
        roles = frozenset(r for r in roles if r.value in scopes)
    return roles


def endpoint_permission(view: Callable[..., Any] | None, endpoint: str | None) -> str | None:
    """The permission declared for a view function (None: undeclared, so refused)."""
    if endpoint in LIBRARY_ENDPOINTS:
        return LIBRARY_ENDPOINTS[endpoint]
    return getattr(view, "permission", None)


def requires(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the permission of a route; checked before the view runs. See praevcase.web.guard."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        from praevcase.web import run_view

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return run_view(permission, view, args, kwargs)

        wrapper.permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator
