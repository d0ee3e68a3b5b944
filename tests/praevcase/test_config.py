"""Configuration: a loud embedded default, and a production start that refuses to guess."""
from __future__ import annotations

import pytest

from praevcase import create_app
from praevcase.config import ConfigError


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in list(__import__("os").environ):
        if key.startswith("PRAEVCASE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PRAEVCASE_INSTANCE_PATH", str(tmp_path))
    return monkeypatch


def test_production_refuses_to_start_and_names_what_is_missing(clean_env):
    clean_env.setenv("PRAEVCASE_ENV", "production")
    clean_env.setenv("PRAEVCASE_DATABASE_URL", "postgresql://db/praevcase")
    with pytest.raises(ConfigError) as exc:
        create_app()
    message = str(exc.value)
    assert "PRAEVCASE_SECRET_KEY" in message and "PRAEVCASE_KEYRING_FILE" in message
    assert "PRAEVCASE_DATABASE_URL" not in message


def test_unknown_variables_are_refused_so_typos_surface(clean_env):
    clean_env.setenv("PRAEVCASE_SECRETKEY", "x")
    with pytest.raises(ConfigError, match="PRAEVCASE_SECRETKEY"):
        create_app()


def test_embedded_default_uses_sqlite_and_generates_keys_loudly(clean_env, tmp_path, capsys):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'praevcase.sqlite3'}"
    assert (tmp_path / "dev-keyring.json").stat().st_mode & 0o777 == 0o600
    err = capsys.readouterr().err
    assert "DEVELOPMENT mode" in err and "SQLite" in err
    # a second start reuses the same keys (data stays readable)
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_production_with_everything_set_starts_with_secure_cookies(clean_env, tmp_path):
    from consent.crypto import Keyring

    keyring = tmp_path / "keyring.json"
    keyring.write_text(Keyring.generate().to_json())
    keyring.chmod(0o600)
    checkpoint = tmp_path / "checkpoint.key"
    checkpoint.write_text("k" * 64)
    for key, value in {"ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/p",
                       "KEYRING_FILE": str(keyring), "CHECKPOINT_KEY_FILE": str(checkpoint)}.items():
        clean_env.setenv(f"PRAEVCASE_{key}", value)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-praevcase"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
