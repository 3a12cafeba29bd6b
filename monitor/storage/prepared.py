"""Hot statements compiled once per dialect and run by the driver itself.

``conn.execute(stmt, params)`` of a statement built once still costs ≈ 26-30 µs of Python per
call in SQLAlchemy for a small one, more with many parameters (cache-key lookup,
``construct_params``, ``_init_compiled``, the result's metadata), several times what SQLite takes
to run a small INSERT (5.6 µs by the driver's cursor; issue 16: ≈ 13 statements per new article;
figures: bench/README.md, "The hot statements on the driver's cursor"). A ``Prepared`` statement is compiled by
SQLAlchemy itself, once per dialect, into its SQL text, its parameter order and each parameter's
bind processor (the column type's, e.g. NulFreeText dropping NUL, UTCDateTime converting to UTC
and SQLite's datetime text); a call then only converts the values and runs the driver's cursor in
the connection's transaction (the engine's cursor events are still told, a failure still leaves
as ``DBAPIError``, which ``Database.tx`` turns into StoreError). ``exec_driver_sql`` costs
≈ 8-18 µs more per call than the driver's cursor, most of it building the result's metadata from
the cursor description.

Rows come back as SQLAlchemy's would (each column's result processor, e.g. UTCDateTime's, applied).
Refused when first run (ValueError, a programming error): a result column whose processor
depends on the driver's column type (PostgreSQL numerics), an INSERT that would fill a column from
a Python-side default, a parameter expanded per call (``IN`` of a list: use db.in_list); a
parameter not given raises KeyError. Both SQLite (qmark) and PostgreSQL (psycopg, pyformat) are
compiled by the dialect of the connection, so the same object serves both.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql.expression import Executable


@dataclass(frozen=True)
class _Form:
    sql: str
    names: tuple[str, ...]  # the caller's parameter of each driver parameter, in order
    processors: tuple[Any, ...]  # bind processor of each (None: as given)
    fixed: tuple[Any, ...]  # the statement's own value of a parameter the caller does not pass
    positional: bool
    keys: tuple[str, ...]  # pyformat: the driver's name of each parameter
    columns: tuple[str, ...]  # the result's column names
    results: tuple[Any, ...]  # result processor of each result column (None: the driver's value)
    row: Any  # the row class (None: no result columns)


_UNSET = object()


class Prepared:
    """`stmt` (a Core statement with bound parameters) compiled once per dialect; `keys`: the
    columns an INSERT is given (as ``conn.execute(insert(t), {...})`` would take from its
    parameters)."""

    __slots__ = ("_forms", "_keyset", "keys", "stmt")

    def __init__(self, stmt: Executable, keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.keys = tuple(keys) if keys is not None else None
        self._keyset = frozenset(self.keys or ())
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = self._compile(dialect)
        return form

    def _compile(self, dialect: Dialect) -> _Form:
        compiled: Any = self.stmt.compile(  # type: ignore[attr-defined]
            dialect=dialect, column_keys=list(self.keys) if self.keys is not None else None
        )
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise ValueError(f"a column would take a Python-side default: {compiled.string}")
        columns, results = [], []
        for col in getattr(self.stmt, "exported_columns", ()):
            try:
                results.append(col.type.dialect_impl(dialect).result_processor(dialect, None))
            except (TypeError, ValueError):  # chosen by the driver's column type (PG numerics): not served
                raise ValueError(f"result column {col.key} ({type(col.type).__name__}) is not served") from None
            columns.append(col.key)
        positional = bool(compiled.positional)
        order = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
        procs, fixed = [], []
        for name in order:
            bind = compiled.binds[name]
            if bind.expanding or getattr(bind, "literal_execute", False):
                raise ValueError(f"parameter {name} is expanded per call")
            procs.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
            # the statement's own value (an anonymous bind, e.g. ``.values(col=None)``, is its
            # literal even when that is None); a named bindparam without one the caller gives
            own = bind.value is not None or bind.callable or bind.unique
            fixed.append(bind.effective_value if own else _UNSET)
        escaped = getattr(compiled, "escaped_bind_names", None) or {}
        return _Form(
            sql=compiled.string,
            names=order,
            processors=tuple(procs),
            fixed=tuple(fixed),
            positional=positional,
            keys=tuple(escaped.get(n, n) for n in order),
            columns=tuple(columns),
            results=tuple(results),
            row=_row_class(tuple(columns)) if columns else None,
        )

    def _values(self, form: _Form, params: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, proc, fixed in zip(form.names, form.processors, form.fixed, strict=True):
            value = params.get(name, fixed)
            if value is _UNSET:
                raise KeyError(f"parameter {name!r} not given")
            out.append(proc(value) if proc is not None else value)
        return tuple(out)

    def _args(self, form: _Form, params: Mapping[str, Any]) -> Any:
        """The driver's arguments for one run with `params`: a tuple (positional paramstyle) or a
        dict by the compiled names. KeyError: a column the statement does not name, or a
        parameter not given."""
        if self.keys is not None and not params.keys() <= self._keyset:
            # an INSERT given a column it does not name would drop it silently (conn.execute
            # would store it): redteam15b, story_articles.head and words were never written
            raise KeyError(f"columns not in the statement: {sorted(set(params) - self._keyset)}")
        values = self._values(form, params)
        return values if form.positional else dict(zip(form.keys, values, strict=True))

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Rows:
        """Run once with `params` (by the statement's parameter names) by `conn`'s driver, in its
        transaction (``run_on_driver``)."""
        form = self._form(conn.dialect)
        got, rowcount = run_on_driver(conn, form.sql, self._args(form, params))
        if any(form.results):
            got = [tuple(p(v) if p is not None else v for p, v in zip(form.results, r, strict=True)) for r in got]
        return Rows([form.row(*r) for r in got] if form.row is not None else [], rowcount)

    def execute_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> int:
        """Run once per mapping of `params` (the driver's executemany, in `conn`'s transaction);
        the driver's rowcount. For statements without a result (an UPDATE, an INSERT without
        RETURNING)."""
        form = self._form(conn.dialect)
        if form.row is not None:
            raise ValueError(f"execute_many returns no rows: {form.sql}")
        args = [self._args(form, p) for p in params]
        if not args:
            return 0
        return run_on_driver(conn, form.sql, args, many=True)[1]


def run_on_driver(conn: Connection, sql: str, args: Any, *, many: bool = False) -> tuple[list[Any], int]:
    """(rows, rowcount) of `sql` run with `args` (a sequence of them with `many`: executemany)
    by `conn`'s driver cursor, in `conn`'s transaction: SQLAlchemy's statement path (≈ 10-25 µs a
    call, issue 16) skipped, its cursor events told (they cannot rewrite the statement) and a
    driver error raised as its DBAPIError (a lost connection invalidated)."""
    dbapi_conn = conn.connection.dbapi_connection
    cur = dbapi_conn.cursor()  # type: ignore[union-attr]
    dispatch = conn.dispatch
    try:
        dispatch.before_cursor_execute(conn, cur, sql, args, None, many)
        try:
            if many:
                cur.executemany(sql, args)
            else:
                cur.execute(sql, args)
            got = list(cur.fetchall()) if cur.description is not None else []
        except conn.dialect.loaded_dbapi.Error as exc:
            if conn.dialect.is_disconnect(exc, dbapi_conn, cur):
                conn.invalidate(exc)
            raise DBAPIError.instance(sql, args, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
        dispatch.after_cursor_execute(conn, cur, sql, args, None, many)
        return got, cur.rowcount
    finally:
        cur.close()


class Rows:
    """A ``Prepared`` statement's answer: its rows (tuples with the columns as attributes and
    ``_mapping``), fetched in full, and the driver's rowcount."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        return self.rows

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        if len(self.rows) != 1:  # as Result.one() raises, a SQLAlchemyError (Database.tx: StoreError)
            raise (NoResultFound if not self.rows else MultipleResultsFound)(f"{len(self.rows)} rows, one expected")
        return self.rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [r[0] for r in self.rows]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


def _row_class(columns: tuple[str, ...]) -> Any:
    """A tuple class with `columns` as attributes and ``_mapping`` (as a SQLAlchemy Row has)."""
    base = namedtuple("Row", columns)  # type: ignore[misc]
    return type("Row", (base,), {"__slots__": (), "_mapping": property(lambda self: self._asdict())})
