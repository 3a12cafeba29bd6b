"""Channel URL verdicts kept in a SQLite store, read before the store is opened (issue 16).

:class:`ChannelChecks` is the ``UrlCheckCache`` of monitor/config/checkcache.py (why and how
the keys are made: there). It reads table ``channel_checks`` (migration 0016) with the
standard library's sqlite3, read-only, while the config loads: the store's URL is known only
then, and SQLAlchemy's engine and the schema check come later. ``save()`` writes what was
told to it once the config loaded, in one short transaction (cli/common.py saves again once
the store is opened when the table did not exist yet: a store created or upgraded by this
pass). It never creates a database file nor a table: a store that does not exist yet, a
schema behind 0016 (``once`` upgrades it later), a locked or unreadable file, a URL with
options (``?mode=ro``), ``:memory:`` or a PostgreSQL store: every ``get`` answers None (the
check runs) and ``save`` writes nothing.
Rows not written again for ``KEEP_DAYS`` days are deleted by ``save`` (a row's key changes
with the config's text, so old ones pile up otherwise).
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

__all__ = ["KEEP_DAYS", "ChannelChecks", "sqlite_file"]

log = logging.getLogger(__name__)

KEEP_DAYS = 30
_SQLITE = re.compile(r"^sqlite(?:\+pysqlite)?:///(?P<path>[^?]+)$")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:///PATH``, absolute or relative to the working
    directory, as SQLAlchemy reads it), or None (another database, options, ``:memory:``)."""
    m = _SQLITE.match(url)
    if m is None or m.group("path") == ":memory:":
        return None
    return Path(m.group("path"))


class ChannelChecks:
    """Verdicts (their warnings) by key in the SQLite store of a config; ``override`` is
    MONITOR_STORAGE when set (it replaces the config's ``storage``, as cli.common.load does)."""

    def __init__(self, override: str | None = None) -> None:
        self._override = override or None
        self._readers: dict[Path, sqlite3.Connection | None] = {}
        self._told: dict[Path, dict[str, tuple[str, ...]]] = {}

    def _file(self, storage_url: str) -> Path | None:
        return sqlite_file(self._override or storage_url)

    def get(self, storage_url: str, key: str) -> tuple[str, ...] | None:
        path = self._file(storage_url)
        if path is None:
            return None
        if path not in self._readers:
            self._readers[path] = _connect(path, "ro")
        conn = self._readers[path]
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT warnings FROM channel_checks WHERE key = ?", (key,)).fetchone()
            return tuple(str(w) for w in json.loads(row[0])) if row else None
        except (sqlite3.Error, ValueError, TypeError) as exc:  # no table yet (schema behind 0016), locked
            log.debug("channel check cache unreadable error=%s", type(exc).__name__)
            return None

    def put(self, storage_url: str, key: str, warnings: tuple[str, ...]) -> None:
        path = self._file(storage_url)
        if path is not None:
            self._told.setdefault(path, {})[key] = tuple(warnings)

    @property
    def pending(self) -> int:
        """Verdicts told and not written yet."""
        return sum(map(len, self._told.values()))

    def save(self) -> int:
        """Write what was told (rows written), close the readers. What cannot be written (no
        database file or no table yet: a store this process creates or upgrades next) stays
        pending for a later ``save``."""
        self.close()
        written = 0
        told, self._told = self._told, {}
        for path, rows in told.items():
            conn = _connect(path, "rw")
            if conn is None:
                self._told[path] = rows
                continue
            now = datetime.now(UTC).replace(tzinfo=None)  # the store's SQLite form (schema.UTCDateTime)
            try:
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(
                        "INSERT INTO channel_checks (key, warnings, checked_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                        "DO UPDATE SET warnings = excluded.warnings, checked_at = excluded.checked_at",
                        [(k, json.dumps(list(w), ensure_ascii=False), now.isoformat(" ")) for k, w in rows.items()],
                    )
                    old = (now - timedelta(days=KEEP_DAYS)).isoformat(" ")
                    conn.execute("DELETE FROM channel_checks WHERE checked_at < ?", (old,))
                written += len(rows)
            except sqlite3.Error as exc:  # no table yet: kept for the next save
                log.debug("channel check cache not written error=%s", type(exc).__name__)
                self._told[path] = rows
            finally:
                conn.close()
        return written

    def close(self) -> None:
        readers, self._readers = self._readers, {}
        for conn in readers.values():
            if conn is not None:
                conn.close()


def _connect(path: Path, mode: str) -> sqlite3.Connection | None:
    """A connection to an existing database file (``mode`` "ro" or "rw": never created), or None."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(path.resolve()))}?mode={mode}", uri=True, timeout=5, isolation_level=None
        )
        conn.execute("PRAGMA busy_timeout = 5000")
        return conn
    except sqlite3.Error as exc:
        log.debug("channel check cache cannot open error=%s", type(exc).__name__)
        return None
