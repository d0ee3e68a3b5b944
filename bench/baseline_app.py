"""The stack's own limit: a minimal Flask + Flask-SQLAlchemy app on the same gunicorn settings.

Endpoints:
- ``/read/<id>``        one-row read by primary key, JSON out
- ``/read-insert/<id>`` one-row read plus one-row insert and commit (an audited read, at its cheapest)

Run: ``BASELINE_DATABASE_URL=postgresql+psycopg://… gunicorn -w 2 bench.baseline_app:app``
"""
from __future__ import annotations

import os
from datetime import UTC
from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from flask import abort
from flask import jsonify
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Row(db.Model):
    __tablename__ = "baseline_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    payload: Mapped[str] = mapped_column(sa.String(200))


class Access(db.Model):
    __tablename__ = "baseline_access"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    row_id: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


def create_app(url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url or os.environ["BASELINE_DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    db.init_app(app)

    @app.get("/read/<int:row_id>")
    def read(row_id: int):
        row = db.session.get(Row, row_id) or abort(404)
        return jsonify(id=row.id, payload=row.payload)

    @app.get("/read-insert/<int:row_id>")
    def read_insert(row_id: int):
        row = db.session.get(Row, row_id) or abort(404)
        db.session.add(Access(row_id=row.id, at=datetime.now(UTC)))
        db.session.commit()
        return jsonify(id=row.id, payload=row.payload)

    return app


def prepare(url: str, rows: int = 10_000) -> None:
    """Create and fill the baseline tables."""
    app = create_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.execute(sa.insert(Row), [{"id": i, "payload": f"Zeile {i:06d} " + "x" * 100}
                                            for i in range(1, rows + 1)])
        db.session.commit()


app = create_app() if "BASELINE_DATABASE_URL" in os.environ else None
