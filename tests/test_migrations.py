"""Migrations: one head, and upgrading an empty database yields exactly the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from praevcase.extensions import db


def test_migrations_have_one_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgraded_database_matches_the_models(app):
    with app.app_context():
        conn = db.session.connection()
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, db.metadata) == []


def test_audit_table_refuses_update_and_delete_on_postgresql(app_ctx):
    import pytest
    import sqlalchemy as sa

    db.session.execute(sa.text(
        "INSERT INTO audit_events (chain, seq, occurred_dt, action, outcome, prev_hash, row_hash) "
        "VALUES ('t:0', 1, now(), 'x', 'ok', '\\x00', '\\x00')"))
    for statement in ("UPDATE audit_events SET action = 'y'", "DELETE FROM audit_events", "TRUNCATE audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(sa.text(statement))
