"""praevcase: case coordination for municipal prevention chains (Kommunale Präventionsketten)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask import g
from flask import request

from praevcase import extensions


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an instance of the praevcase application."""
    from praevcase.config import load_config
    from praevcase.config import print_banner

    import os

    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("PRAEVCASE_INSTANCE_PATH") or None)
    warnings = load_config(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_error_and_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    print_banner(app, warnings)
    return app


def register_extensions(app: Flask) -> None:
    from praevcase import models  # noqa: F401 - every model registered before mappers configure

    db = extensions.db
    db.init_app(app)
    extensions.migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True, compare_type=True)
    extensions.login_manager.init_app(app)
    extensions.login_manager.session_protection = "basic"
    extensions.csrf.init_app(app)
    extensions.babel.init_app(app, locale_selector=_select_locale, default_translation_directories="translations")


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _select_locale() -> str:
    user = g.get("user")
    if user is not None and user.locale in ("de", "en"):
        return user.locale
    return request.accept_languages.best_match(["de", "en"], default="de") if request else "de"


def register_blueprints(app: Flask) -> None:
    from praevcase.accounts.views import bp as accounts
    from praevcase.admin.views import bp as admin
    from praevcase.api import register_api

    app.register_blueprint(accounts)
    app.register_blueprint(admin)
    app.extensions["praevcase_api"] = register_api(app)
    # the API authenticates with bearer tokens only, never with the session cookie
    for name in list(app.blueprints):
        if name.endswith("_api"):
            extensions.csrf.exempt(app.blueprints[name])


def register_error_and_request_hooks(app: Flask) -> None:
    from praevcase.errors import register_error_handlers
    from praevcase.web import register_request_hooks

    register_error_handlers(app)
    register_request_hooks(app)


def register_template_helpers(app: Flask) -> None:
    from praevcase.templating import register as register_templating

    register_templating(app)


def register_commands(app: Flask) -> None:
    from praevcase.cli import register_cli

    register_cli(app)
