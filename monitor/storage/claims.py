"""Page claims: one poller at a time works an article URL, so a page listed by two feeds
(an outlet's main feed and its section feed) polled at once is fetched once.

The pipeline claims an item's URL key before it looks the article up and fetches its page,
and holds the claim until the article is stored; a second poller of the same key waits,
then finds the article stored and only records its own item as joining it.

- PostgreSQL (one node with concurrent jobs, or several nodes): a transaction-level
  advisory lock on the key's hash, on a connection held for the claim. A killed holder's
  connection closes and frees it; a holder frozen (SIGSTOP) keeps it, so a waiter gives up
  after :data:`CLAIM_WAIT` seconds and fetches anyway (one extra fetch per freeze at most).
- SQLite (one process; the daemon's worker threads): a lock per key in this process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError

from monitor.storage.db import Database, lock_key

log = logging.getLogger(__name__)

CLAIM_WAIT = 60.0  # seconds a poller waits for another's claim (two HTTP timeouts), then fetches anyway
_SPACE = 0x6D6F6E  # classid of our (int4, int4) advisory locks: apart from the one-bigint ones of db.py


class _KeyedLocks:
    """A lock per key, created while someone holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[object, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: object, wait: float) -> Iterator[bool]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        got = lock.acquire(timeout=wait)
        try:
            yield got
        finally:
            if got:
                lock.release()
            with self._guard:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


_LOCAL = _KeyedLocks()


class PageClaims(Database):
    """Claims on article URL keys (see the module docstring)."""

    @contextmanager
    def claim_page(self, url_key: str, wait: float = CLAIM_WAIT) -> Iterator[bool]:
        """Hold the claim on `url_key` for the block: yields True once held, False when
        another poller kept it `wait` seconds (the block then runs unclaimed)."""
        began = time.monotonic()
        if self.dialect == "postgresql":
            cm = self._pg_claim(url_key, wait)
        else:
            cm = _LOCAL.hold((str(self.engine.url) if self.engine else "", url_key), wait)
        with cm as got:
            waited = time.monotonic() - began
            if not got:
                log.warning("page claim not granted url_key=%s waited=%.0fs; fetching anyway", url_key, waited)
            elif waited >= 1.0:
                log.info("page claim granted url_key=%s waited=%.1fs (another poller had it)", url_key, waited)
            yield got

    @contextmanager
    def _pg_claim(self, url_key: str, wait: float) -> Iterator[bool]:
        """The advisory lock in a transaction held for the block (its end frees the lock): taken
        at once when free (``pg_try_advisory_xact_lock``), else waited for, the wait bounded by
        ``lock_timeout`` inside a savepoint, so a timeout leaves the transaction usable and the
        block runs unclaimed."""
        with self.tx() as conn:
            got = True
            key = f"{_SPACE}, {lock_key(url_key)}"
            if conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({key})").scalar():
                yield got  # nobody held it: one round trip instead of four (issue 16)
                return
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{max(1, int(wait * 1000))}ms'")
            try:
                with conn.begin_nested():
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")
            except OperationalError as exc:
                if "lock timeout" not in str(exc).lower():
                    raise
                got = False
            yield got
