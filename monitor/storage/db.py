"""The database under the store: engine, SQLite pragmas, migrations, transactions.

:class:`Database` opens a SQLite or PostgreSQL URL, upgrades the schema to the
newest Alembic revision and hands out short transactions (``tx()``). The row
mixins (feeds.py, articles.py, outbox.py, stories.py) build on it; ``Store``
(store.py) is all of them over one Database.

Every public method of a mixin runs in its own short transaction, so one store is
safe to share between worker threads. Inserts that may race use the dialect's
``INSERT ... ON CONFLICT`` (``insert_into``) so concurrent writers never raise.
SQLite write transactions start with ``BEGIN IMMEDIATE`` (WAL, busy_timeout 30s)
so two writers queue instead of failing on a lock upgrade; within one process they all run on
one connection kept out of the pool (``_Writer``), so its page cache stays valid between them.

Errors: any database failure leaves as ``StoreError`` whose message names the store
with its password hidden (never the password itself).
"""

from __future__ import annotations

import importlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import blake2b
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Label,
    Row,
    Select,
    String,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    literal_column,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from monitor.errors import StoreError
from monitor.storage.prepared import run_on_driver

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATE_LOCK = 7_301_944_120  # pg_advisory_xact_lock key: one migrator at a time

DIALECTS = ("sqlite", "postgresql")

R = TypeVar("R")

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

    # An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (either dialect's).
    Upsert = postgresql.Insert | sqlite.Insert


def dialect_insert(dialect: str) -> Callable[[Table], Upsert]:
    """``sqlalchemy.dialects.<dialect>.insert`` for "sqlite" or "postgresql", imported on first use:
    a SQLite store never loads the PostgreSQL dialect (≈ 40-80 ms at start, issue 16)."""
    if dialect not in DIALECTS:
        raise StoreError(f"unsupported database {dialect!r} (use sqlite or postgresql)")
    insert: Callable[[Table], Upsert] = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
    return insert


@lru_cache(maxsize=256)
def _plain_insert(paramstyle: str, table: str, cols: tuple[str, ...], n_rows: int) -> str:
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(paramstyle)
    if mark is None:
        raise StoreError(f"unsupported driver paramstyle {paramstyle!r}")
    row = f"({', '.join([mark] * len(cols))})"
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([row] * n_rows)}"


def insert_rows(conn: Connection, table: Table, cols: tuple[str, ...], rows: list[tuple[int | str, ...]]) -> None:
    """A plain INSERT of `rows` (tuples of `cols`' values) run by the driver itself, past
    SQLAlchemy's per-row parameter processing, which cost more than the database's work for the
    hot rows of a new article (≈ 70 band and term rows, issue 16): SQLite's executemany (in
    process), PostgreSQL one multi-row VALUES (one round trip, as SQLAlchemy's insertmanyvalues
    sends it); both on the driver's cursor (prepared.run_on_driver). Only for columns whose values
    need no conversion (ints; text without NUL, which PostgreSQL refuses: the caller drops it)."""
    if not rows:
        return
    style = conn.dialect.paramstyle
    if conn.dialect.name == "sqlite":
        run_on_driver(conn, _plain_insert(style, table.name, cols, 1), rows, many=True)
        return
    for i in range(0, len(rows), 1000):  # well under PostgreSQL's 65,535 parameters
        page = rows[i : i + 1000]
        run_on_driver(conn, _plain_insert(style, table.name, cols, len(page)), tuple(v for r in page for v in r))


def in_list(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN (the values bound as `name`)`` with the list as ONE parameter (``list_param``):
    PostgreSQL ``= ANY(array)``, SQLite ``IN (SELECT value FROM json_each(json))``. The statement
    is then compiled once and its text never changes, where an expanding ``IN`` renders a new
    text per number of values at every execution (≈ 0.04 ms each, issue 16). Both use the
    column's index."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    values: Select[Any] = select(literal_column("value")).select_from(func.json_each(bindparam(name, type_=String)))
    return column.in_(values.scalar_subquery())


def list_param(dialect: str, values: Iterable[int | str]) -> list[int | str] | str:
    """The value of an ``in_list`` parameter (text without NUL, as NulFreeText stores it)."""
    got = [v.replace("\x00", "") if isinstance(v, str) else v for v in values]
    return got if dialect == "postgresql" else json.dumps(got, ensure_ascii=False)


def lock_key(text: str) -> int:
    """A signed 32-bit key of `text` for the two-key form of PostgreSQL's advisory locks
    (page claims, story placement; each passes its own first key). A collision only makes
    two holders of different keys wait for each other a moment."""
    return int.from_bytes(blake2b(text.encode("utf-8"), digest_size=4).digest(), "big", signed=True)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


# ---- rows <-> frozen dataclasses ----------------------------------------------
class _Dataclass(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]


D = TypeVar("D", bound=_Dataclass)


def record(cls: type[D], row: Row[*tuple[Any, ...]]) -> D:
    """The dataclass `cls` from a row whose columns are named like its fields
    (fields the row lacks keep their defaults)."""
    m = row._mapping
    return cls(**{f.name: m[f.name] for f in fields(cls) if f.name in m})


def columns(table: Table, cls: type[_Dataclass], **renamed: str) -> list[Column[Any] | Label[Any]]:
    """The columns of `table` that fill `cls`, in field order; `renamed` maps a field to
    a column of another name (labelled with the field's name)."""
    out: list[Column[Any] | Label[Any]] = []
    for f in fields(cls):
        src = renamed.get(f.name, f.name)
        out.append(table.c[src].label(f.name) if src != f.name else table.c[src])
    return out


# ---- errors without secrets ----------------------------------------------------
def safe_url(url: str) -> str:
    """`url` with its password replaced by ``***`` (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: still never echo a password
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def _cause(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ---- SQLite connection setup -----------------------------------------------------
def _set_sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.fetchall()
        cur.execute("PRAGMA synchronous = NORMAL")
    finally:
        cur.close()


_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=]*)?=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)


def known_revisions() -> tuple[set[str], set[str]]:
    """(revision ids, down_revision ids) of monitor/storage/migrations, read from the version
    files' ``revision`` / ``down_revision`` lines without importing alembic."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for m in _REVISION.finditer(path.read_text(encoding="utf-8")):
            if m.group(2):
                (downs if m.group(1) else revisions).add(m.group(2))
    return revisions, downs


def head_revision() -> str:
    """The head revision id of monitor/storage/migrations. Raises StoreError when there is
    not exactly one head (alembic then decides)."""
    revisions, downs = known_revisions()
    heads = revisions - downs
    if len(heads) != 1:
        raise StoreError(f"migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def _refuse_newer(current: list[str]) -> None:
    """Raise StoreError naming the cause and the fix when the database is at a schema
    revision this version does not have: a newer version migrated it (a rolling upgrade
    of a cluster, an older node restarted; alembic would only say "Can't locate
    revision"). pgadmin4#1353 and metabase#14904 are the same kind."""
    known, _downs = known_revisions()
    unknown = sorted(set(current) - known)
    if unknown:
        try:
            ours = head_revision()
        except StoreError:
            ours = "?"
        raise StoreError(
            f"the database is at schema {', '.join(unknown)}, newer than this version's {ours}: "
            "a newer version of monitor migrated it; upgrade this node (README: Upgrading a cluster)"
        )


_READ_ONLY = "monitor_read_only"  # execution option of a ``tx(write=False)`` connection


def _sqlite_begin(conn: Connection) -> None:
    # a read-only transaction takes no write lock: it neither waits for a writer nor holds one up.
    # Sent by the driver itself: through SQLAlchemy's statement path it cost as much as a query
    # (≈ 0.05 ms, three transactions per article, issue 16)
    begin = "BEGIN" if conn.get_execution_options().get(_READ_ONLY) else "BEGIN IMMEDIATE"
    driver_error = conn.dialect.loaded_dbapi.Error
    try:
        conn.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]
    except driver_error as exc:  # "database is locked" after busy_timeout: as SQLAlchemy would raise it
        raise DBAPIError.instance(begin, None, exc, driver_error, dialect=conn.dialect) from exc


WRITE_WAIT = 30.0  # seconds a write transaction waits for this process's current one (as busy_timeout)


class _Writer:
    """SQLite's write transactions of one process, one at a time on ONE connection kept checked
    out of the pool (issue 16).

    SQLite serializes writers anyway (``BEGIN IMMEDIATE``), but on pooled connections a write
    often lands on a connection another one has written through since: SQLite then drops that
    connection's whole page cache at BEGIN (WAL: the database changed) and reads back every page
    it needs, and its commit costs more. One connection saves ≈ 0.25-0.3 ms of CPU per new
    article with 8 threads (``bench/store_cost.py --threads 8``, 40% of it in commits) and
    ≈ 1.1 ms in a whole ``monitor once`` (bench/README.md, "One connection for SQLite's
    writes"). Reads keep the pool (a deferred BEGIN: they neither wait for a writer nor hold one
    up).

    A write transaction waits at most `wait` seconds for this process's current one (as
    busy_timeout waits for another process's), then raises SQLAlchemy's TimeoutError
    (``Database.tx``: StoreError). After an error the connection goes back to the pool (rolled
    back; dropped if invalidated) and the next write checks out another."""

    def __init__(self, engine: Engine, wait: float) -> None:
        self._engine = engine
        self._wait = wait
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._closing = False  # close() ran: each write gives its connection back when it ends

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction on the connection (committed when the block ends, rolled back
        when it raises)."""
        if not self._lock.acquire(timeout=self._wait):
            raise PoolTimeout(f"database is locked: another write of this process held it {self._wait:.0f}s")
        try:
            conn = self._conn
            if conn is None or conn.closed or conn.invalidated:
                conn = self._conn = self._engine.connect()
            done = False
            try:
                with conn.begin():
                    yield conn
                done = True
            finally:
                if not done or self._closing:  # failed, or the store closed meanwhile: give it back
                    self._conn = None
                    conn.close()
        finally:
            self._lock.release()

    def close(self) -> None:
        """Give the connection back to the pool (before the pool is disposed), once the write
        transaction running, if any, ended (waiting at most `wait` seconds). A transaction still
        running then keeps its connection and gives it back itself when it ends (closing it here,
        under another thread's feet, would cut its write off: redteam16c)."""
        got = self._lock.acquire(timeout=self._wait)
        try:
            self._closing = True
            if got:
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()
        finally:
            if got:
                self._lock.release()


class Database:
    """One SQLite or PostgreSQL database, schema at head.

    ``Database(url)`` raises StoreError when the URL is not SQLite/PostgreSQL, the
    database does not answer, or a migration fails. ``dialect`` is "sqlite" or
    "postgresql"; ``engine`` is None once closed.
    """

    engine: Engine | None
    dialect: str

    def __init__(self, url: str) -> None:
        self._safe = safe_url(url)
        self._password: str | None = None
        self._releases: list[Callable[[], None]] = []
        self._writer: _Writer | None = None
        self.engine = None
        try:
            u = make_url(url)
            self._password = u.password
            if u.get_backend_name() == "sqlite":
                engine = create_engine(u, connect_args={"timeout": 30, "check_same_thread": False})
                event.listen(engine, "connect", _set_sqlite_pragmas)
                event.listen(engine, "begin", _sqlite_begin)
                self._writer = _Writer(engine, WRITE_WAIT)
            else:
                # a page claim (claims.py) holds a connection while its page is fetched: room
                # for one per worker slot (8) besides the queries those workers make meanwhile
                engine = create_engine(u, pool_pre_ping=True, pool_size=10, max_overflow=20)
            self.engine = engine
            self._reader = engine.execution_options(**{_READ_ONLY: True})  # same pool
            self.dialect = engine.dialect.name
            if self.dialect not in DIALECTS:
                raise StoreError(f"unsupported database {self.dialect!r} (use sqlite or postgresql)")
            self._upgrade()
        except Exception as exc:
            if self._writer is not None:
                self._writer.close()
            if self.engine is not None:
                self.engine.dispose()
                self.engine = None
            cause = exc.args[0] if isinstance(exc, StoreError) else _cause(exc)
            raise StoreError(self._scrub(f"cannot open store {self._safe}: {cause}")) from None

    def _scrub(self, message: str) -> str:
        pw = self._password
        return message.replace(str(pw), "***") if pw else message

    def _upgrade(self) -> None:
        if self.engine is None:
            raise StoreError(f"store {self._safe} is closed")
        if self._at_head():
            return  # alembic (~0.45 s CPU and ~12 MB to import) only when there is work for it
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATE_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def _at_head(self) -> bool:
        """True when the database's alembic revision is the migrations' single head."""
        if self.engine is None:
            return False
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return False
            current = [row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
        _refuse_newer(current)
        try:
            return current == [head_revision()]
        except StoreError:  # several heads: alembic decides
            return False

    def on_close(self, release: Callable[[], None]) -> None:
        """Call `release` when the store closes (a connection held out of the pool: a
        session lock's, storage/claims.py), before the pool is disposed."""
        self._releases.append(release)

    def close(self) -> None:
        """Release the connections; later calls raise StoreError ("closed")."""
        releases, self._releases = self._releases, []
        for release in releases:
            release()
        if self._writer is not None:
            self._writer.close()
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    @contextmanager
    def tx(self, *, write: bool = True) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back when it raises.
        ``write=False``: the block only reads (SQLite: a deferred BEGIN, no write lock taken).
        Database errors leave as StoreError (password scrubbed)."""
        if self.engine is None:
            raise StoreError(f"store {self._safe} is closed")
        try:
            if write and self._writer is not None:
                with self._writer.begin() as conn:
                    yield conn
            elif write:
                with self.engine.begin() as conn:
                    yield conn
            else:
                with self._reader.connect() as conn, conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise StoreError(self._scrub(f"store {self._safe}: {_cause(exc)}")) from exc

    def store_error(self, exc: BaseException, what: str = "") -> StoreError:
        """The StoreError for database error `exc` (password scrubbed), `what` failing."""
        return StoreError(self._scrub(f"store {self._safe}: {what + ': ' if what else ''}{_cause(exc)}"))

    def connect_autocommit(self) -> Connection:
        """A pooled connection in autocommit (each statement its own transaction: never idle
        in one); the caller closes it. StoreError when the store is closed or unreachable."""
        if self.engine is None:
            raise StoreError(f"store {self._safe} is closed")
        try:
            return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise self.store_error(exc) from exc

    def insert_into(self, table: Table) -> Upsert:
        """``INSERT INTO table`` in this dialect, so ``on_conflict_do_*`` can follow."""
        return dialect_insert(self.dialect)(table)
