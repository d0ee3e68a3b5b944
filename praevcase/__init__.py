"""praevcase: case coordination for municipal prevention chains (Kommunale Präventionsketten)."""
from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask
from flask import g
from flask import request

from praevcase import extensions

#: Feature packages, in registration order. A feature may have any of these modules, found by
#: convention: models (SQLAlchemy models), permissions (declare/grant), views (`bp`), api (`blp`),
#: cli (`cli`, a click group), nav (start-page links and navigation).
FEATURES = ("tenants", "accounts", "audit", "admin", "privacy", "cases", "transitions", "reminders",
            "reminders.scheduler", "reports", "offers", "referrals", "sessions", "lotse")


def feature_module(feature: str, name: str) -> ModuleType | None:
    """Import ``praevcase.<feature>.<name>`` if the feature has such a module."""
    try:
        return importlib.import_module(f"praevcase.{feature}.{name}")
    except ModuleNotFoundError as e:
        if e.name == f"praevcase.{feature}.{name}":
            return None
        raise


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an instance of the praevcase application."""
    from praevcase.config import load_config
    from praevcase.config import print_banner

    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("PRAEVCASE_INSTANCE_PATH") or None)
    warnings = load_config(app, test_config)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # behind a TLS proxy: the client address (throttling) and https (HSTS, secure cookies)
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    register_extensions(app)
    register_features(app)
    register_error_and_request_hooks(app)
    register_template_helpers(app)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("transitions").setLevel(logging.WARNING)
    print_banner(app, warnings)
    return app


def register_extensions(app: Flask) -> None:
    for feature in FEATURES:  # every model known before mappers configure
        feature_module(feature, "models")
    importlib.import_module("praevcase.idempotency")  # idempotency_keys of the API (not a feature)
    db = extensions.db
    db.init_app(app)
    extensions.migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                                render_as_batch=True, compare_type=True)
    extensions.login_manager.init_app(app)
    extensions.login_manager.session_protection = "basic"
    extensions.csrf.init_app(app)
    extensions.babel.init_app(app, locale_selector=_select_locale, default_translation_directories="translations")


def _select_locale() -> str:
    user = g.get("user")
    if user is not None and user.locale in ("de", "en"):
        return user.locale
    return request.accept_languages.best_match(["de", "en"], default="de") if request else "de"


def register_features(app: Flask) -> None:
    """Permissions, blueprints, API blueprints, CLI groups and navigation of every feature."""
    from praevcase.api import create_api
    from praevcase.cli import register_cli

    api = create_api(app)
    app.extensions["praevcase_api"] = api
    for feature in FEATURES:
        feature_module(feature, "permissions")
        views = feature_module(feature, "views")
        if views is not None:
            app.register_blueprint(views.bp)
        api_module = feature_module(feature, "api")
        if api_module is not None:
            api.register_blueprint(api_module.blp)
            # the API authenticates with bearer tokens only, never with the session cookie
            extensions.csrf.exempt(api_module.blp)
        cli = feature_module(feature, "cli")
        if cli is not None:
            app.cli.add_command(cli.cli)
        feature_module(feature, "nav")
    register_cli(app)
    from praevcase import idempotency

    idempotency.init_app(app)  # Idempotency-Key on every POST of /api/v1 (OpenAPI, CLI)


def register_error_and_request_hooks(app: Flask) -> None:
    from praevcase.errors import register_error_handlers
    from praevcase.web import register_request_hooks

    register_error_handlers(app)
    register_request_hooks(app)


def register_template_helpers(app: Flask) -> None:
    from praevcase.templating import register as register_templating

    register_templating(app)
