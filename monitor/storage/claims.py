"""Page claims: one poller at a time works an article URL, so a page listed by two feeds
(an outlet's main feed and its section feed) polled at once is fetched once.

The pipeline claims an item's URL key before it looks the article up and fetches its page,
and holds the claim until the article is stored; a second poller of the same key waits,
then finds the article stored and only records its own item as joining it.

- PostgreSQL (one node with concurrent jobs, or several nodes): a *session-level* advisory
  lock on the key's hash, taken on a pooled connection in autocommit, so the connection is
  never idle in a transaction while the page is fetched (a server's
  ``idle_in_transaction_session_timeout``, usual on managed PostgreSQL, killed the
  transaction-level lock's connection mid-fetch: redteam17c #3). The lock is released in a
  ``finally`` before the connection goes back to the pool; when that unlock fails (the
  connection was cut, or killed by ``idle_session_timeout``) the connection is invalidated,
  never reused with a lock on it. A killed holder's connection closes and the server frees
  the lock; a holder frozen (SIGSTOP) keeps it, so a waiter gives up after
  :data:`CLAIM_WAIT` seconds and fetches anyway (one extra fetch per freeze at most).
  Session locks need a session of their own: behind PgBouncer use ``pool_mode = session``
  (transaction pooling hands each statement a different server session).
- SQLite (one process; the daemon's worker threads): a lock per key in this process.

:class:`SessionLock` is the same lock held for a process's life on a connection of its own
(a cluster node's name, storage/cluster.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from monitor.errors import StoreError
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


def _lock_sql(space: int, key: int, how: str) -> str:
    return f"SELECT pg_{how}({space}, {key})"


def _take(conn: Connection, space: int, key: int, wait: float) -> bool:
    """Take the session lock (`space`, `key`) on `conn` (autocommit), waiting at most `wait`
    seconds (``lock_timeout``; 0: one try). False when another session kept it."""
    if conn.exec_driver_sql(_lock_sql(space, key, "try_advisory_lock")).scalar():
        return True  # free: one round trip instead of three (issue 16)
    if wait <= 0:
        return False
    conn.exec_driver_sql(f"SET lock_timeout = '{max(1, int(wait * 1000))}ms'")
    try:
        conn.exec_driver_sql(_lock_sql(space, key, "advisory_lock"))
        return True
    except OperationalError as exc:
        # our lock_timeout, or a server's statement_timeout shorter than the wait: not granted
        if "lock timeout" not in str(exc).lower() and "statement timeout" not in str(exc).lower():
            raise
        return False
    finally:
        conn.exec_driver_sql("RESET lock_timeout")


def _release(conn: Connection, space: int, key: int, what: str) -> None:
    """Unlock (`space`, `key`) on `conn`; when that fails or finds no lock, invalidate `conn`
    (the pool must never hand out a session still holding it). Never raises."""
    try:
        if conn.exec_driver_sql(_lock_sql(space, key, "advisory_unlock")).scalar():
            return
        reason = "no such lock on the session"
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
    log.warning("session lock not released lock=%s reason=%s; connection dropped", what, reason)
    _drop(conn)


def _drop(conn: Connection) -> None:
    """Close `conn` for good (invalidated: its session, and any lock on it, end)."""
    try:
        conn.invalidate()
        conn.close()
    except SQLAlchemyError:
        pass


@contextmanager
def session_lock(db: Database, space: int, key: int, wait: float, what: str) -> Iterator[bool]:
    """Hold the session-level advisory lock (`space`, `key`) for the block, on a pooled
    connection in autocommit (never idle in a transaction); yields False when another
    session kept it `wait` seconds (the block runs unlocked). Unlocked before the
    connection returns to the pool, or the connection is invalidated. StoreError when the
    lock cannot be asked for; an error of the block goes through unchanged."""
    conn = db.connect_autocommit()
    try:
        got = _take(conn, space, key, wait)
    except SQLAlchemyError as exc:
        _drop(conn)
        raise db.store_error(exc, f"lock {what}") from exc
    except BaseException:  # interrupted while waiting: the session (and a lock) goes with it
        _drop(conn)
        raise
    try:
        yield got
    finally:
        if got:
            _release(conn, space, key, what)
        conn.close()


class SessionLock:
    """A session-level advisory lock held for a process's life on a connection of its own
    (taken out of the pool for good; autocommit). The server frees it when the process dies
    or its connection closes; :meth:`held` says whether it still holds, taking it again on a
    new connection after the old one was lost (False: another session has it now)."""

    def __init__(self, db: Database, space: int, key: int, what: str) -> None:
        self._db, self._space, self._key, self.what = db, space, key, what
        self._conn: Connection | None = None
        self._guard = threading.Lock()
        db.on_close(self.release)

    def acquire(self, wait: float = 0.0) -> bool:
        """Take the lock (at once, or waiting at most `wait` seconds); True when held.
        StoreError when the database cannot be asked, or a pooler in transaction mode
        does not keep the lock on the session."""
        with self._guard:
            if self._conn is not None and _answers(self._conn):
                return True
            self._forget()
            conn = self._db.connect_autocommit()
            try:
                got = _take(conn, self._space, self._key, wait)
                if got and not self._kept(conn):
                    for _ in range(3):  # best effort: off the pooler's server session it sits on
                        if not conn.exec_driver_sql(_lock_sql(self._space, self._key, "advisory_unlock")).scalar():
                            break
                    _drop(conn)
                    raise StoreError(
                        f"lock {self.what}: a session-level advisory lock is not kept by its session (a "
                        "connection pooler in transaction mode, such as PgBouncer pool_mode=transaction?); "
                        "connect cluster nodes to PostgreSQL directly or through session pooling"
                    )
            except SQLAlchemyError as exc:
                _drop(conn)
                raise self._db.store_error(exc, f"lock {self.what}") from exc
            if not got:
                conn.close()
                return False
            self._conn = conn
            return True

    def held(self) -> bool:
        """Whether the lock is still held, taking it again if its connection was lost."""
        return self.acquire(0.0)

    def release(self) -> None:
        """Unlock and close the connection (never raises)."""
        with self._guard:
            if self._conn is not None:
                _release(self._conn, self._space, self._key, self.what)
            self._forget()

    def end_holders(self) -> int:
        """End the server sessions holding this lock (another process's: a frozen one, or a
        dead machine's half-open connection the server has not noticed yet); how many.
        0 when the database refuses (ending another role's session needs its membership
        or ``pg_signal_backend``)."""
        where = (
            "locktype = 'advisory' AND granted AND objsubid = 2 "
            f"AND classid = {self._space & 0xFFFFFFFF}::oid AND objid = {self._key & 0xFFFFFFFF}::oid "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        try:
            with self._db.connect_autocommit() as conn:
                ended = conn.exec_driver_sql(
                    f"SELECT pg_terminate_backend(pid) FROM pg_locks WHERE {where} AND pid <> pg_backend_pid()"
                ).all()
        except SQLAlchemyError as exc:
            log.warning("lock holder not ended lock=%s reason=%s", self.what, str(exc).splitlines()[0][:200])
            return 0
        return sum(1 for (done,) in ended if done)

    def _kept(self, conn: Connection) -> bool:
        """Whether the lock just taken on `conn` stays with it: the server session of its
        next statement holds it, and another connection cannot take it. Behind a pooler in
        transaction mode either may fail: each statement may run on another server session,
        and the session holding the lock goes back to the pool for the next client (which
        then "takes" the lock again; a pooler reusing its last server session, as PgBouncer
        does by default, gives it to the very next one). Not a proof: a pooler that hands
        out other sessions each time may pass both."""
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
            f"AND classid = {self._space & 0xFFFFFFFF}::oid AND objid = {self._key & 0xFFFFFFFF}::oid "
            "AND objsubid = 2"
        ).scalar()
        if not found:
            return False
        with self._db.connect_autocommit() as probe:
            if not _take(probe, self._space, self._key, 0.0):
                return True
            _release(probe, self._space, self._key, self.what)
        return False

    def _forget(self) -> None:
        if self._conn is not None:
            _drop(self._conn)  # the lock goes with the session
            self._conn = None


def _answers(conn: Connection) -> bool:
    try:
        conn.exec_driver_sql("SELECT 1")
        return True
    except SQLAlchemyError:
        return False


class PageClaims(Database):
    """Claims on article URL keys (see the module docstring)."""

    @contextmanager
    def claim_page(self, url_key: str, wait: float = CLAIM_WAIT) -> Iterator[bool]:
        """Hold the claim on `url_key` for the block: yields True once held, False when
        another poller kept it `wait` seconds (the block then runs unclaimed)."""
        began = time.monotonic()
        if self.dialect == "postgresql":
            cm = session_lock(self, _SPACE, lock_key(url_key), wait, f"page:{url_key}")
        else:
            cm = _LOCAL.hold((str(self.engine.url) if self.engine else "", url_key), wait)
        with cm as got:
            waited = time.monotonic() - began
            if not got:
                log.warning("page claim not granted url_key=%s waited=%.0fs; fetching anyway", url_key, waited)
            elif waited >= 1.0:
                log.info("page claim granted url_key=%s waited=%.1fs (another poller had it)", url_key, waited)
            yield got
