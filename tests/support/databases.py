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
from sqlalchemy.engine import Connection

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
def pg_scratch(kind: str) -> Iterator[str]:
    """A new PostgreSQL `kind` ("SCHEMA" or "DATABASE") with a random name, dropped on exit
    (a database WITH (FORCE), so connections left open do not block it). Skips the test
    when PostgreSQL does not answer."""
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    import psycopg

    name = f"{'t' if kind == 'SCHEMA' else 'c'}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE {kind} {name}")
    try:
        yield name
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE" if kind == "SCHEMA" else f"DROP DATABASE {name} WITH (FORCE)")


@contextmanager
def fresh_database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL for a fresh, empty database of `kind` ("sqlite": a file in
    `tmp_path`; "postgresql": a new schema, dropped on exit). Skips the test when
    PostgreSQL does not answer."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    with pg_scratch("SCHEMA") as schema:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A SQLAlchemy URL of a new, empty PostgreSQL database, dropped on exit. Cluster tests
    use a database rather than a schema: procrastinate's LISTEN/NOTIFY channels are per
    database, so two test runs never wake each other's workers."""
    with pg_scratch("DATABASE") as name:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


# What the revisions after 0015 add, undone: a test that puts a store back at an older revision
# (to test an upgrade from it) runs these too. A new migration adds its undo here.
UNDO_AFTER_0015 = (
    "DROP TABLE channel_checks",  # 0016
    "ALTER TABLE story_articles DROP COLUMN head",  # 0017
    "ALTER TABLE story_articles DROP COLUMN words",  # 0017
)


def migrate(conn: Connection, revision: str) -> None:
    """Run the store's Alembic migrations up to `revision` on `conn` (inside its transaction):
    a store of an older version, for the upgrade tests."""
    from alembic import command
    from alembic.config import Config

    from monitor.storage.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)
