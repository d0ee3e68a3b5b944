"""Jinja helpers: German dates, permission checks, navigation and start-page links per role."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from flask import g
from flask import url_for
from flask_babel import format_datetime
from flask_babel import get_locale
from flask_babel import gettext

from praevcase.accounts.models import Role
from praevcase.permissions import can


@dataclass(frozen=True)
class Link:
    endpoint: str
    label: str
    permission: str


#: Main navigation entries, added by feature packages at import time.
NAV_ITEMS: list[Link] = []
#: Start-page links per role, added by feature packages at import time.
START_LINKS: dict[Role, list[Link]] = {role: [] for role in Role}


def add_nav(endpoint: str, label: str, permission: str) -> None:
    """*label* is German and a msgid (babel.cfg extracts add_nav's 2nd argument); shown translated."""
    NAV_ITEMS.append(Link(endpoint, label, permission))


def add_start_link(role: Role, endpoint: str, label: str, permission: str) -> None:
    """*label* is German and a msgid (babel.cfg extracts add_start_link's 3rd argument)."""
    START_LINKS[role].append(Link(endpoint, label, permission))


def _resolve(links: list[Link]) -> list[dict[str, str]]:
    user = g.get("user")
    return [{"url": url_for(x.endpoint), "label": gettext(x.label)} for x in links if can(user, x.permission)]


def register(app: Flask) -> None:
    """Add filters and globals used by every template."""

    @app.template_filter("dt")
    def _dt(value: datetime | None, fmt: str = "dd.MM.yyyy HH:mm") -> str:
        return "" if value is None else format_datetime(value, fmt)

    @app.template_filter("d")
    def _d(value: Any, fmt: str = "dd.MM.yyyy") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, fmt)
        return value.strftime("%d.%m.%Y")

    @app.template_filter("translate")
    def _translate(value: Any) -> Any:
        """A German message that comes as data (form errors, labels marked with N_) in the user's locale."""
        return gettext(value) if isinstance(value, str) else value

    @app.template_filter("role_option")
    def _role_option(value: str, labels: dict) -> tuple[str, str]:
        return value, labels[Role(value)]

    @app.template_filter("agency_option")
    def _agency_option(agency: Any) -> tuple[str, str]:
        return str(agency.id), agency.name

    @app.template_filter("pair")
    def _pair(value: str) -> tuple[str, str]:
        return value, value

    @app.template_filter("dictsort_by_value")
    def _by_value(labels: dict) -> list[tuple[str, str]]:
        return sorted(((getattr(k, "value", k), v) for k, v in labels.items()), key=lambda kv: kv[1])

    @app.context_processor
    def _globals() -> dict[str, Any]:
        user = g.get("user")
        return {
            "user": user,
            "can": lambda permission: can(user, permission),
            "is_demo": bool(user is not None and user.tenant.is_demo),
            "nav_items": lambda: _resolve(NAV_ITEMS),
            "role_links": lambda role: _resolve(START_LINKS[role]),
            "get_locale": get_locale,
        }
