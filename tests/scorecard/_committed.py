"""An app on a database of its own whose requests really commit (no rolled-back outer transaction).

For checks that send thousands of requests: inside the suite's one outer transaction every
request's savepoint keeps its transaction-id lock until the test ends, and a few thousand of them
exhaust PostgreSQL's shared lock table ("out of shared memory") for every test on the server.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests import pg
from tests.conftest import _config


@contextmanager
def committed_app(keyring: Any, label: str, **extra: Any) -> Iterator[Any]:
    """A migrated database ``praevcase_<label>_<run>_<worker>`` and an app on it; dropped afterwards."""
    from flask_migrate import upgrade

    from praevcase import create_app
    from praevcase.extensions import db

    server = pg.server_url()
    name = pg.run_scoped(f"praevcase_{label}")
    url = pg.fresh_database(server, name)
    app = create_app(_config(url, keyring, **extra))
    try:
        with app.app_context():
            upgrade()
        yield app
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
        pg.drop_database(server, name)
