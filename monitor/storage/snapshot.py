"""A throw-away copy of the store for `monitor once --dry-run` (the real store is only read).

:func:`snapshot` copies a SQLite store into a folder the caller owns, so a dry run sees
what was already seen, sent and polled (ETags included) and so prints exactly what
`monitor once` would send, while the store's file keeps its bytes and mtime:

* no file yet: nothing is created; the dry run starts from an empty copy;
* a WAL file beside it (a daemon running, or not closed cleanly): SQLite's online backup
  from a read-only connection (``mode=ro``: it never checkpoints into the store's file);
* otherwise the file's bytes are copied (a read; nothing is opened for writing).

A PostgreSQL store is not copied: the dry run starts from an empty SQLite copy (every
item counts as new) and says so. Errors: ``StoreError`` when the store cannot be read.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.errors import StoreError


@dataclass(frozen=True)
class Snapshot:
    """``url``: the copy's SQLAlchemy URL; ``note``: what the copy is, for the user."""

    url: str
    note: str


def snapshot(url: str, folder: Path) -> Snapshot:
    """A copy of the store at `url` in `folder` (which the caller deletes afterwards)."""
    copy = folder / "dry-run.db"
    target = f"sqlite:///{copy}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return Snapshot(target, "the store URL is not one SQLAlchemy reads: starting from an empty store")
    if parsed.get_backend_name() != "sqlite":
        return Snapshot(target, f"a {parsed.get_backend_name()} store is not copied: every item counts as new")
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return Snapshot(target, "an in-memory store: starting from an empty store")
    path = Path(database)
    if not path.exists():
        return Snapshot(target, f"no store yet at {path} (not created): every item counts as new")
    try:
        if Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists():
            source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                with sqlite3.connect(copy) as dest:
                    source.backup(dest)
                dest.close()
            finally:
                source.close()
        else:
            shutil.copyfile(path, copy)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot read the store for a dry run: {path}: {exc}") from None
    return Snapshot(target, f"a copy of {path} (the store itself is not written)")
