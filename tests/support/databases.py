"""Fresh databases for tests: a SQLite file, or a new schema on the local PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (trust auth, user ``postgres``, database
``test``); each :func:`fresh_database_url` call makes its own schema and drops it
afterwards, so tests never see each other's rows. The ``store_url`` and ``store``
fixtures in tests/integration/conftest.py and tests/acceptance/conftest.py are
built on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

KINDS = ("sqlite", "postgresql")
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it answers."""
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except Exception as exc:
        return f"no PostgreSQL server answers on 127.0.0.1:5432 ({exc.__class__.__name__}: {exc})"


@contextmanager
def fresh_database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL for a fresh, empty database of `kind` ("sqlite": a file in
    `tmp_path`; "postgresql": a new schema, dropped on exit). Skips the test when
    PostgreSQL does not answer."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
