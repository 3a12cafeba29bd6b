"""Feed health rows (table ``feeds``): conditional-GET validators, failure streaks, flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Float, TypeDecorator, bindparam, func, null, select, type_coerce, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.expression import Executable

from monitor.storage.db import DIALECTS, Database, columns, dialect_insert, record, utcnow
from monitor.storage.prepared import Prepared
from monitor.storage.schema import feeds


@dataclass(frozen=True)
class FeedState:
    """One feed's stored state; datetimes are aware UTC, `new_per_hour` is items per hour."""

    name: str
    url: str
    etag: str | None
    last_modified: str | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    items_seen: int
    next_poll_at: datetime | None = None
    failing_since: datetime | None = None
    flagged_at: datetime | None = None
    last_warning: str | None = None
    kind: str | None = None
    new_per_hour: float | None = None
    body_hash: str | None = None  # digest of the last full answer (monitor.fetch.validators)
    full_fetch_at: datetime | None = None  # the last full answer: a 200 with a body
    untrusted: str | None = None  # validators caught lying and no longer sent: "etag last-modified"
    untrusted_reason: str | None = None
    untrusted_at: datetime | None = None


@dataclass(frozen=True)
class ValidatorRecord:
    """What a poll learnt about the feed's validators (monitor.fetch.validators), written as a
    whole: the last full answer's digest and time, the untrusted validators, why and since when."""

    body_hash: str | None
    full_fetch_at: datetime | None
    untrusted: str | None
    untrusted_reason: str | None
    untrusted_at: datetime | None


_FEED_COLS = columns(feeds, FeedState)
# Every poll reads its feed's row and (a success) upserts it: statements built once with bound
# parameters, as the article hot path's (issue 16: building a statement per call, its column
# expressions and cache key, cost more than SQLite running it).


class _DriverFloat(TypeDecorator[float]):
    """A FLOAT column read as the driver gives it (both drivers give a float for it), so a
    ``Prepared`` read needs no result processor chosen by PostgreSQL's column type."""

    impl = Float
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


# compiled once: read by every poll (issue 16); columns in FeedState's field order
_FEED_BY_NAME_FAST = Prepared(
    select(
        *(type_coerce(c, _DriverFloat()).label(c.key) if isinstance(c.type, Float) else c for c in _FEED_COLS)
    ).where(feeds.c.name == bindparam("name"))
)
_SUCCESS_KEYS = (
    *(f.name for f in fields(ValidatorRecord)),
    "name",
    "url",
    "etag",
    "last_modified",
    "last_polled_at",
    "last_success_at",
    "consecutive_failures",
    "items_seen",
    "next_poll_at",
    "last_warning",
    "kind",
    "new_per_hour",
)


@lru_cache(maxsize=2 * len(DIALECTS))
def _success_upsert(dialect: str, validators: bool) -> Executable:
    """``record_feed_success``'s INSERT … ON CONFLICT in `dialect`, built once per process;
    `validators`: it also replaces the stored ValidatorRecord columns (else they are kept)."""
    ins = dialect_insert(dialect)(feeds)
    replaced = [f.name for f in fields(ValidatorRecord)] if validators else []
    return ins.on_conflict_do_update(
        index_elements=[feeds.c.name],
        set_={
            "url": ins.excluded.url,
            "etag": func.coalesce(ins.excluded.etag, feeds.c.etag),
            "last_modified": func.coalesce(ins.excluded.last_modified, feeds.c.last_modified),
            "last_polled_at": ins.excluded.last_polled_at,
            "last_success_at": ins.excluded.last_success_at,
            "last_error": null(),
            "consecutive_failures": 0,
            "items_seen": feeds.c.items_seen + ins.excluded.items_seen,
            "next_poll_at": ins.excluded.next_poll_at,
            "failing_since": null(),
            "flagged_at": null(),
            "last_warning": ins.excluded.last_warning,
            "kind": func.coalesce(ins.excluded.kind, feeds.c.kind),
            "new_per_hour": func.coalesce(ins.excluded.new_per_hour, feeds.c.new_per_hour),
            **{name: ins.excluded[name] for name in replaced},
        },
    )


@lru_cache(maxsize=2 * len(DIALECTS))
def _success_fast(dialect: str, validators: bool) -> Prepared:
    """``_success_upsert`` compiled once (issue 16: one per poll)."""
    keys = _SUCCESS_KEYS if validators else _SUCCESS_KEYS[len(fields(ValidatorRecord)) :]
    return Prepared(_success_upsert(dialect, validators), keys)


def feed_state_in(conn: Connection, name: str) -> FeedState | None:
    """``FeedRows.feed_state`` inside the caller's transaction."""
    row = _FEED_BY_NAME_FAST.execute(conn, {"name": name}).first()
    return FeedState(*row) if row else None


class FeedRows(Database):
    """Reads and writes of the ``feeds`` table (raise StoreError)."""

    def feed_state(self, name: str) -> FeedState | None:
        """The feed called `name`, or None if it was never polled."""
        with self.tx(write=False) as conn:
            return feed_state_in(conn, name)

    def record_feed_success(
        self,
        name: str,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        new_items: int,
        next_poll_at: datetime | None = None,
        warning: str | None = None,
        kind: str | None = None,
        new_per_hour: float | None = None,
        validators: ValidatorRecord | None = None,
        now: datetime | None = None,
    ) -> None:
        """Upsert; clears last_error, the failure streak and the flag (last_error_at stays as
        history). A None etag/last_modified keeps the stored one (a 304 may omit them);
        `validators` replaces the stored record of them (None keeps it)."""
        now = now or utcnow()
        record_values = asdict(validators) if validators is not None else {}
        values = dict(
            **record_values,
            name=name,
            url=url,
            etag=etag,
            last_modified=last_modified,
            last_polled_at=now,
            last_success_at=now,
            consecutive_failures=0,
            items_seen=new_items,
            next_poll_at=next_poll_at,
            last_warning=warning,
            kind=kind,
            new_per_hour=new_per_hour,
        )
        with self.tx() as conn:
            _success_fast(self.dialect, validators is not None).execute(conn, values)

    def record_feed_failure(
        self,
        name: str,
        url: str,
        error: str,
        *,
        next_poll_at: datetime | None = None,
        flag_after: float | None = None,
        kind: str | None = None,
        now: datetime | None = None,
    ) -> FeedState:
        """Count a failure; flag the feed once its streak is `flag_after` seconds old.
        Returns the feed's state after the update."""
        now = now or utcnow()
        ins = self.insert_into(feeds).values(
            name=name,
            url=url,
            last_polled_at=now,
            last_error=error,
            last_error_at=now,
            consecutive_failures=1,
            items_seen=0,
            next_poll_at=next_poll_at,
            failing_since=now,
            kind=kind,
        )
        stmt = ins.on_conflict_do_update(
            index_elements=[feeds.c.name],
            set_={
                "url": ins.excluded.url,
                "last_polled_at": ins.excluded.last_polled_at,
                "last_error": ins.excluded.last_error,
                "last_error_at": ins.excluded.last_error_at,
                "consecutive_failures": feeds.c.consecutive_failures + 1,
                "next_poll_at": ins.excluded.next_poll_at,
                "failing_since": func.coalesce(feeds.c.failing_since, ins.excluded.failing_since),
                "kind": func.coalesce(ins.excluded.kind, feeds.c.kind),
            },
        )
        with self.tx() as conn:
            conn.execute(stmt)
            if flag_after is not None:
                conn.execute(
                    update(feeds)
                    .where(
                        feeds.c.name == name,
                        feeds.c.flagged_at.is_(None),
                        feeds.c.failing_since <= now - timedelta(seconds=flag_after),
                    )
                    .values(flagged_at=now)
                )
            row = conn.execute(select(*_FEED_COLS).where(feeds.c.name == name)).one()
        return record(FeedState, row)

    def list_feeds(self) -> list[FeedState]:
        """Every feed ever polled, by name."""
        with self.tx() as conn:
            rows = conn.execute(select(*_FEED_COLS).order_by(feeds.c.name)).all()
        return [record(FeedState, r) for r in rows]
