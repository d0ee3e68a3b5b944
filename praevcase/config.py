"""Configuration from PRAEVCASE_* environment variables, with a loud embedded default."""
from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from flask import Flask

from consent.crypto import Keyring

ENV_PREFIX = "PRAEVCASE_"

#: Every variable the service reads, with its meaning (printed in the README table).
VARIABLES = {
    "ENV": "development (default) or production",
    "SECRET_KEY": "signs session cookies and CSRF tokens",
    "DATABASE_URL": "SQLAlchemy URL, e.g. postgresql+psycopg://praevcase@db/praevcase",
    "KEYRING_FILE": "path to the keyring JSON (key-encryption keys, blind-index key)",
    "KEYRING": "the keyring JSON itself (instead of KEYRING_FILE)",
    "CHECKPOINT_KEY_FILE": "path to the key that signs audit checkpoints (never in the database)",
    "CHECKPOINT_FILE": "append-only file the audit checkpoints are written to",
    "TOMBSTONE_FILE": "append-only file of erasure tombstones (no personal data), replayed after a restore; "
                      "default: erasure-tombstones.log next to the checkpoint file",
    "BASE_URL": "public URL of the service, used in links in e-mails and calendar files",
    "SESSION_IDLE_MINUTES": "idle timeout of a login session (default 30)",
    "SESSION_MAX_HOURS": "absolute lifetime of a login session (default 10)",
    "AUDIT_SHARDS": "hash chains per tenant in the audit log (default 4)",
    "SMTP_URL": "smtp://user:pass@host:port for e-mail; unset: e-mails go to the log",
    "MAIL_FROM": "sender address of e-mails",
    "LOG_LEVEL": "INFO (default), DEBUG, WARNING",
    "PROXY_COUNT": "number of reverse proxies in front whose X-Forwarded-For/-Proto to trust (default 0)",
    "INSTANCE_PATH": "folder for the embedded default (SQLite file, generated dev keys); default ./instance",
}

REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "DATABASE_URL", "KEYRING_FILE or KEYRING", "CHECKPOINT_KEY_FILE")


class ConfigError(RuntimeError):
    """The configuration is incomplete or wrong; the message names what."""


def _env() -> dict[str, str]:
    found = {k[len(ENV_PREFIX):]: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    unknown = sorted(set(found) - set(VARIABLES) - {"TEST_DATABASE_URL"})
    if unknown:
        raise ConfigError("unknown configuration variables: " + ", ".join(ENV_PREFIX + u for u in unknown))
    return found


def _defaults(app: Flask) -> dict[str, Any]:
    return {
        "ENV_NAME": "development",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_IDLE_MINUTES": 30,
        "SESSION_MAX_HOURS": 10,
        "AUDIT_SHARDS": 4,
        "BASE_URL": "http://127.0.0.1:5000",
        "MAIL_FROM": "praevcase@localhost",
        "SMTP_URL": None,
        "LOG_LEVEL": "INFO",
        "PROXY_COUNT": 0,
        "LOGIN_THROTTLE_PER_ACCOUNT": 5,
        "LOGIN_THROTTLE_PER_ADDRESS": 30,
        "LOGIN_THROTTLE_MINUTES": 15,
        "WTF_CSRF_TIME_LIMIT": None,  # the login session's own timeouts govern
        "WTF_CSRF_SSL_STRICT": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "praevcase_session",
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "API_TITLE": "praevcase API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    }


def load_config(app: Flask, test_config: dict[str, Any] | None) -> list[str]:
    """Fill app.config; return warnings for the start banner. Raises ConfigError."""
    app.config.from_mapping(_defaults(app))
    if test_config is not None:
        app.config.update(test_config)
        app.config.setdefault("ENV_NAME", "testing")
        _finish(app)
        return []
    env = _env()
    production = env.get("ENV", "development") == "production"
    app.config["ENV_NAME"] = "production" if production else "development"
    for key in ("SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "AUDIT_SHARDS", "PROXY_COUNT"):
        if key in env:
            app.config[key] = int(env[key])
    for key in ("BASE_URL", "SMTP_URL", "MAIL_FROM", "LOG_LEVEL", "CHECKPOINT_FILE", "TOMBSTONE_FILE"):
        if key in env:
            app.config[key] = env[key]
    if production:
        _production(app, env)
        return []
    return _development(app, env)


def _production(app: Flask, env: dict[str, str]) -> None:
    missing = [
        ENV_PREFIX + name.replace(" or ", " or " + ENV_PREFIX)
        for name, present in (
            ("SECRET_KEY", "SECRET_KEY" in env),
            ("DATABASE_URL", "DATABASE_URL" in env),
            ("KEYRING_FILE or KEYRING", "KEYRING_FILE" in env or "KEYRING" in env),
            ("CHECKPOINT_KEY_FILE", "CHECKPOINT_KEY_FILE" in env),
        )
        if not present
    ]
    if missing:
        raise ConfigError("production start refused, missing: " + ", ".join(missing))
    app.config["SECRET_KEY"] = env["SECRET_KEY"]
    app.config["SQLALCHEMY_DATABASE_URI"] = env["DATABASE_URL"]
    app.config["KEYRING"] = (
        Keyring.from_json(env["KEYRING"]) if "KEYRING" in env else Keyring.from_file(env["KEYRING_FILE"])
    )
    if "KEYRING" not in env:
        app.config["KEYRING_FILE"] = env["KEYRING_FILE"]  # `flask keys add-kek` writes the next version here
    app.config["CHECKPOINT_KEY"] = Path(env["CHECKPOINT_KEY_FILE"]).read_bytes().strip()
    app.config.setdefault("CHECKPOINT_FILE", str(Path(env["CHECKPOINT_KEY_FILE"]).with_suffix(".log")))
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_NAME"] = "__Host-praevcase"
    _finish(app)


def _development(app: Flask, env: dict[str, str]) -> list[str]:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    warnings = []
    app.config["SECRET_KEY"] = env.get("SECRET_KEY") or _dev_file(instance / "dev-secret-key", lambda: secrets.token_urlsafe(48))
    if "SECRET_KEY" not in env:
        warnings.append(f"generated development secret key in {instance / 'dev-secret-key'}")
    if "DATABASE_URL" in env:
        app.config["SQLALCHEMY_DATABASE_URI"] = env["DATABASE_URL"]
    else:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'praevcase.sqlite3'}"
        warnings.append(f"embedded SQLite database {instance / 'praevcase.sqlite3'} (not for production)")
    if "KEYRING" in env:
        app.config["KEYRING"] = Keyring.from_json(env["KEYRING"])
    else:
        path = Path(env.get("KEYRING_FILE") or instance / "dev-keyring.json")
        if not path.exists():
            _dev_file(path, lambda: Keyring.generate().to_json())
            warnings.append(f"generated development keyring {path}: back it up or lose the data")
        app.config["KEYRING"] = Keyring.from_file(str(path))
        app.config["KEYRING_FILE"] = str(path)
    key_path = Path(env.get("CHECKPOINT_KEY_FILE") or instance / "dev-checkpoint.key")
    app.config["CHECKPOINT_KEY"] = _dev_file(key_path, lambda: secrets.token_hex(32)).encode()
    app.config.setdefault("CHECKPOINT_FILE", str(instance / "audit-checkpoints.log"))
    _finish(app)
    return warnings


def _dev_file(path: Path, make: Any) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
    return path.read_text().strip()


def _finish(app: Flask) -> None:
    checkpoints = app.config.get("CHECKPOINT_FILE")
    if checkpoints:
        tombstones = os.devnull if checkpoints == os.devnull else str(Path(checkpoints).with_name("erasure-tombstones.log"))
        app.config.setdefault("TOMBSTONE_FILE", tombstones)
    url = app.config.get("SQLALCHEMY_DATABASE_URI", "")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    if isinstance(app.config.get("KEYRING"), str):
        app.config["KEYRING"] = Keyring.from_json(app.config["KEYRING"])


def print_banner(app: Flask, warnings: list[str]) -> None:
    """Say loudly that this is the embedded development default."""
    if not warnings:
        return
    lines = ["", "!" * 78, "  praevcase runs in DEVELOPMENT mode:"]
    lines += [f"   - {w}" for w in warnings]
    lines += ["  Set PRAEVCASE_ENV=production with real keys for any real data.", "!" * 78, ""]
    print("\n".join(lines), file=sys.stderr)


__all__ = ["ConfigError", "VARIABLES", "load_config", "print_banner", "json"]
