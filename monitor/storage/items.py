"""The item ledger: every item a feed ever listed, with its state and the reason for it.

The ledger is also the work queue. A poll that parsed a listing first stores every
item it lists (``enqueue_items``); only then may the feed's validators (ETag,
Last-Modified) be stored, so a 304 can never hide an item that still needs work.
Every poll, 304 included, then works off ``due_items``. An item leaves ``pending``
only when its outcome is stored: the article (with its matches and alerts) is saved
first, and ``resolve_item`` reads the item's state back from what was stored, so a
crash between the two leaves the item pending and the retry is idempotent.

States (``STATES``), each row with a ``reason_code`` and a human ``reason``:

- ``pending``: still to do (``new``, ``cap``: over the per-poll budget, ``page_retry``,
  ``item_error``); due at ``next_try_at``.
- ``alerted``: its article made at least one alert (``article_id``).
- ``matched_nothing``: its article matched no topic.
- ``copy``: its article is a copy of ``ref_article_id`` (same text), which alerted instead.
- ``skipped``: not processed, with the reason (``same_article``: another item,
  ``ref_item_id``, is that article; ``title_key_copy``: same headline, date and teaser
  as ``ref_item_id``; ``story_alerted``: matched, but its story already alerted;
  ``backfill``: listed by a feed's first poll (or its first after an outage) and published
  before the backfill window: monitor.sources.backfill).
- ``failed``: gave up after repeated errors (``last_error``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    Table,
    UniqueConstraint,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Executable

from monitor.models import FeedItem
from monitor.storage.db import DIALECTS, Database, dialect_insert, in_list, list_param
from monitor.storage.prepared import Prepared
from monitor.storage.schema import (
    NulFreeString,
    NulFreeText,
    UTCDateTime,
    alerts,
    articles,
    matches,
    metadata,
    story_articles,
)

if TYPE_CHECKING:
    pass

STATES = ("pending", "alerted", "matched_nothing", "copy", "skipped", "failed")

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed", NulFreeString(200), nullable=False),
    Column("key", NulFreeText, nullable=False),  # identity in the feed: "guid:<guid>", else "url:<url_key>"
    Column("url", NulFreeText, nullable=False, default=""),
    Column("url_key", NulFreeText, nullable=False),
    Column("guid", NulFreeText, nullable=False, default=""),
    Column("title", NulFreeText, nullable=False, default=""),
    Column("summary", NulFreeText, nullable=False, default=""),
    Column("published_at", UTCDateTime),
    Column("title_key", NulFreeString(60), nullable=False, default=""),
    Column("summary_hash", NulFreeString(40), nullable=False, default=""),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("state", NulFreeString(20), nullable=False),
    Column("reason_code", NulFreeString(30), nullable=False),
    Column("reason", NulFreeText, nullable=False),
    Column("article_id", Integer),
    Column("ref_article_id", Integer),
    Column("ref_item_id", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try_at", UTCDateTime),
    Column("last_error", NulFreeText),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("feed", "key"),
    Index("ix_items_feed_state", "feed", "state", "next_try_at"),
    Index("ix_items_url_key", "url_key"),
    Index("ix_items_article_id", "article_id"),
    Index("ix_items_feed_title_key", "feed", "title_key"),
)


@dataclass(frozen=True)
class ItemInput:
    """One listed item as the ledger stores it (made by the pipeline from a FeedItem).

    ``state``/``reason_code``/``reason`` are what a NEW row starts as (an item
    already in the ledger keeps its state; only ``last_seen_at`` moves)."""

    key: str
    url_key: str
    item: FeedItem
    title_key: str = ""
    state: str = "pending"
    reason_code: str = "new"
    reason: str = "new in the feed"


@dataclass(frozen=True)
class ItemRow:
    """A ledger row (see the module docstring for states and reasons)."""

    id: int
    feed: str
    key: str
    url: str
    url_key: str
    guid: str
    title: str
    summary: str
    published_at: datetime | None
    title_key: str
    summary_hash: str
    first_seen_at: datetime
    last_seen_at: datetime
    state: str
    reason_code: str
    reason: str
    article_id: int | None
    ref_article_id: int | None
    ref_item_id: int | None
    attempts: int
    next_try_at: datetime | None
    last_error: str | None
    updated_at: datetime

    def feed_item(self) -> FeedItem:
        """The item as the feed listed it, rebuilt without the feed response."""
        return FeedItem(self.feed, self.url, self.guid, self.title, self.summary, self.published_at)


@dataclass(frozen=True)
class Outcome:
    """What is stored for an article, which decides its item's state (``resolve_item_in``)."""

    alerts: int  # its alerts
    matches: int  # its matches
    copy_of: int | None  # the article its text copies (story_articles.copy_of)


@dataclass(frozen=True)
class Resolution:
    """What to resolve a ledger item with once its article is stored (``resolve_item``'s
    arguments but the article): ``Store.save_article(..., resolve=)`` does it in the same
    transaction and reports the item as ``SavedArticle.item``."""

    item_id: int
    now: datetime
    note: str = ""


_ITEM_COLS = [items.c[f.name] for f in fields(ItemRow)]

# resolve_item's statements, built once with bound parameters (issue 16: building them per
# call cost more than running them). What is stored for an article, in one round trip:
_ARTICLE_OUTCOME = select(
    select(func.count()).select_from(alerts).where(alerts.c.article_id == bindparam("article_id")).scalar_subquery(),
    select(func.count()).select_from(matches).where(matches.c.article_id == bindparam("article_id")).scalar_subquery(),
    select(story_articles.c.copy_of).where(story_articles.c.article_id == bindparam("article_id")).scalar_subquery(),
)
_RESOLVE = (
    update(items)
    .where(items.c.id == bindparam("item_id"))
    .values(
        {
            c: bindparam(f"new_{c}")  # a bound name may not be a SET column's own name
            for c in ("state", "reason_code", "reason", "article_id", "ref_article_id", "next_try_at", "updated_at")
        }
    )
    .returning(*_ITEM_COLS)  # the row as updated: no second read
)
_RESOLVE_FAST = Prepared(_RESOLVE)
_ITEM_FIELDS = tuple(f.name for f in fields(ItemRow))

# title_twin's lookup (dated and undated), and enqueue_items' touch of a known item, built once.
_TWIN_WHERE = (
    items.c.feed == bindparam("feed"),
    items.c.title_key == bindparam("title_key"),
    items.c.summary_hash == bindparam("summary_hash"),
    items.c.id != bindparam("item_id"),
    items.c.article_id.is_not(None),
    items.c.last_seen_at < bindparam("first_seen_at"),
)
_TITLE_TWIN = {
    dated: select(*_ITEM_COLS)
    .where(*_TWIN_WHERE, items.c.published_at == bindparam("published_at") if dated else items.c.published_at.is_(None))
    .order_by(items.c.id)
    .limit(1)
    for dated in (True, False)
}
_TITLE_TWIN_FAST = {dated: Prepared(stmt) for dated, stmt in _TITLE_TWIN.items()}
_SEEN_AGAIN = Prepared(
    update(items)
    .where(items.c.feed == bindparam("b_feed"), items.c.key == bindparam("b_key"))
    .values(last_seen_at=bindparam("b_now"))
)
_ENQUEUE_KEYS = (
    "feed",
    "key",
    "url",
    "url_key",
    "guid",
    "title",
    "summary",
    "published_at",
    "title_key",
    "summary_hash",
    "first_seen_at",
    "last_seen_at",
    "state",
    "reason_code",
    "reason",
    "attempts",
    "next_try_at",
    "updated_at",
)
ALL_DUE = 2**31 - 1  # due_items' limit for "every due item" (a bound LIMIT both dialects take)


@lru_cache(maxsize=len(DIALECTS))
def _enqueue(dialect: str) -> Executable:
    """``enqueue_items``' insert: new rows only, returning their keys."""
    ins = dialect_insert(dialect)(items).on_conflict_do_nothing(index_elements=[items.c.feed, items.c.key])
    return ins.returning(items.c.key)


@lru_cache(maxsize=len(DIALECTS))
def _enqueue_one(dialect: str) -> Prepared:
    """``_enqueue`` for one row, compiled once (SQLite: a row per statement on the driver's
    cursor costs less than SQLAlchemy's multi-row path; no round trips in process)."""
    return Prepared(_enqueue(dialect), _ENQUEUE_KEYS)


@lru_cache(maxsize=len(DIALECTS))
def _by_keys(dialect: str) -> Prepared:
    """``items_by_key``' lookup, the keys bound as one list (db.in_list)."""
    return Prepared(select(*_ITEM_COLS).where(items.c.feed == bindparam("feed"), in_list(items.c.key, "keys", dialect)))


@lru_cache(maxsize=4)
def _set_item(error: bool, count_attempt: bool) -> Prepared:
    """``set_item``'s UPDATE (with ``last_error`` / one more attempt or not), compiled once."""
    names = ("state", "reason_code", "reason", "article_id", "ref_article_id", "ref_item_id", "next_try_at")
    values: dict[str, Any] = {c: bindparam(f"new_{c}") for c in (*names, "updated_at")}
    if error:
        values["last_error"] = bindparam("new_last_error")
    if count_attempt:
        values["attempts"] = items.c.attempts + 1
    return Prepared(update(items).where(items.c.id == bindparam("item_id")).values(values))


def summary_hash(summary: str) -> str:
    """SHA-1 of the whitespace-normalised teaser ("" for an empty one)."""
    text = " ".join(summary.split())
    return hashlib.sha1(text.encode("utf-8")).hexdigest() if text else ""


def _row(r: Any) -> ItemRow:
    m = r._mapping
    return ItemRow(**{name: m[name] for name in _ITEM_FIELDS})


def _rows(got: Any) -> list[ItemRow]:
    """ItemRows of a Prepared answer over ``_ITEM_COLS`` (its columns in ItemRow's field order)."""
    return [ItemRow(*r) for r in got]


class ItemRows(Database):
    """Ledger methods of ``Store`` (the item ledger's rows)."""

    # ---- writing ---------------------------------------------------------
    def enqueue_items(self, feed: str, listed: Sequence[ItemInput], now: datetime) -> dict[str, int]:
        """Store every listed item in one transaction: a new one as given (``pending/new``
        unless told otherwise), a known one only gets ``last_seen_at``. Returns how many
        were new, per reason code (``{"new": 3, "backfill": 40}``). Call this BEFORE storing
        the response's validators."""
        if not listed:
            return {}
        with self.tx() as conn:
            return enqueue_in(conn, feed, listed, now)

    def set_item(
        self,
        item_id: int,
        state: str,
        reason_code: str,
        reason: str,
        *,
        now: datetime,
        article_id: int | None = None,
        ref_article_id: int | None = None,
        ref_item_id: int | None = None,
        next_try_at: datetime | None = None,
        error: str | None = None,
        count_attempt: bool = False,
    ) -> None:
        """Move an item to `state` with its reason (``count_attempt`` adds one attempt)."""
        if state not in STATES:
            raise ValueError(f"unknown item state {state!r}")
        values: dict[str, Any] = dict(
            item_id=item_id,
            new_state=state,
            new_reason_code=reason_code,
            new_reason=reason,
            new_article_id=article_id,
            new_ref_article_id=ref_article_id,
            new_ref_item_id=ref_item_id,
            new_next_try_at=next_try_at,
            new_updated_at=now,
            new_last_error=error,
        )
        with self.tx() as conn:
            _set_item(error is not None, count_attempt).execute(conn, values)

    def resolve_item(self, item_id: int, article_id: int, now: datetime, *, note: str = "") -> ItemRow:
        """Set an item's terminal state from what is stored for its article: ``alerted`` (the
        article has alerts), ``copy`` (its text copies an earlier article), ``skipped/
        story_alerted`` (matched, but its story alerted already) or ``matched_nothing``.
        ``note`` is appended to the reason (e.g. that its page was an interstitial)."""
        with self.tx() as conn:
            return resolve_item_in(conn, item_id, article_id, now, note=note)

    def mark_capped(self, feed: str, now: datetime, budget: int) -> int:
        """Give the due items a poll left over the reason ``cap``; returns how many."""
        with self.tx() as conn:
            result = conn.execute(
                update(items)
                .where(
                    items.c.feed == feed,
                    items.c.state == "pending",
                    items.c.reason_code == "new",
                    items.c.next_try_at <= now,
                )
                .values(
                    reason_code="cap",
                    reason=f"more than {budget} items to work in one poll; waits for the next poll",
                    updated_at=now,
                )
            )
        return int(result.rowcount or 0)

    # ---- reading ---------------------------------------------------------
    def due_items(self, feed: str, now: datetime, limit: int = 100) -> list[ItemRow]:
        """Pending items of `feed` due at `now`, in the order they were first listed (at most
        `limit`; ``ALL_DUE``: every one)."""
        with self.tx(write=False) as conn:
            return due_items_in(conn, feed, now, limit)

    def count_due(self, feed: str, now: datetime) -> int:
        """How many pending items of `feed` are due at `now`."""
        with self.tx(write=False) as conn:
            return int(_COUNT_DUE.execute(conn, {"feed": feed, "now": now}).scalar_one())

    def item_of_article(self, article_id: int, *, other_than: int) -> ItemRow | None:
        """The first ledger item (not `other_than`) whose outcome is this article."""
        with self.tx(write=False) as conn:
            row = conn.execute(
                select(*_ITEM_COLS)
                .where(items.c.article_id == article_id, items.c.id != other_than)
                .order_by(items.c.id)
                .limit(1)
            ).first()
        return _row(row) if row else None

    def title_twin(self, row: ItemRow) -> ItemRow | None:
        """An earlier processed item of the same feed with the same headline key, the same
        publication time and the same non-empty teaser (a feed that rotates its GUIDs and
        links): the only case a headline alone is trusted as identity. Anything less and
        the text decides (see storage/stories). An item still listed in the poll that first
        listed `row` is no twin: a feed lists the same item once, so two items listed
        together are two (recurring columns under one headline and a site tagline)."""
        if not row.title_key or not row.summary_hash:
            return None
        with self.tx(write=False) as conn:
            return title_twin_in(conn, row)

    def items_by_key(self, feed: str, keys: Sequence[str]) -> dict[str, ItemRow]:
        """The ledger rows of `feed` under these keys (absent keys are not in the result)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        with self.tx(write=False) as conn:  # the keys bound as one list: no 500-key pages
            got = _by_keys(self.dialect).execute(conn, {"feed": feed, "keys": list_param(self.dialect, wanted)})
        return {r.key: r for r in _rows(got)}

    def text_twin(self, row: ItemRow, since: datetime) -> ItemRow | None:
        """An earlier processed LINK-LESS item of the same feed, first seen since `since`,
        with the same headline and teaser: a link-less item's text is all there is of it,
        so a GUID regenerated on every fetch (feedbin/support#416, FreshRSS#5909) must not
        make it new. Only for a link-less `row`; items listed in the same poll are not twins."""
        if row.url:
            return None
        with self.tx(write=False) as conn:
            return text_twin_in(conn, row, since)

    def item_counts(self, feed: str | None = None) -> dict[str, int]:
        """Items per state (every state present, 0 when none)."""
        q = select(items.c.state, func.count()).group_by(items.c.state)
        if feed is not None:
            q = q.where(items.c.feed == feed)
        with self.tx(write=False) as conn:
            got = {str(s): int(n) for s, n in conn.execute(q).all()}
        return {s: got.get(s, 0) for s in STATES}

    def feed_items(self, feed: str, *, limit: int = 10, open_only: bool = False) -> list[ItemRow]:
        """Newest items of `feed` first; `open_only`: only pending and failed ones."""
        q = select(*_ITEM_COLS).where(items.c.feed == feed)
        if open_only:
            q = q.where(items.c.state.in_(("pending", "failed")))
        with self.tx(write=False) as conn:
            rows = conn.execute(q.order_by(items.c.id.desc()).limit(limit)).all()
        return [_row(r) for r in rows]

    def find_items(self, url_key: str, url: str = "") -> list[ItemRow]:
        """Ledger rows for a URL (by its normalised key, the URL itself, or as a GUID)."""
        cond = or_(items.c.url_key == url_key, items.c.guid == url, items.c.guid == url_key)
        if url:
            cond = or_(cond, items.c.url == url)
        with self.tx(write=False) as conn:
            rows = conn.execute(select(*_ITEM_COLS).where(cond).order_by(items.c.id)).all()
        return [_row(r) for r in rows]

    def article_url(self, article_id: int) -> str | None:
        with self.tx(write=False) as conn:
            return conn.execute(select(articles.c.url).where(articles.c.id == article_id)).scalar()

    def article_by_key(self, url_key: str) -> int | None:
        with self.tx(write=False) as conn:
            got = conn.execute(
                select(articles.c.id).where(articles.c.url_key == url_key, articles.c.status == "done")
            ).scalar()
        return int(got) if got is not None else None


# read by every poll (a 304 included): compiled once (issue 16)
_DUE_WHERE = (
    items.c.feed == bindparam("feed"),
    items.c.state == "pending",
    items.c.next_try_at.is_(None) | (items.c.next_try_at <= bindparam("now")),
)
_DUE_ITEMS = Prepared(select(*_ITEM_COLS).where(*_DUE_WHERE).order_by(items.c.id).limit(bindparam("limit")))
_COUNT_DUE = Prepared(select(func.count().label("n")).select_from(items).where(*_DUE_WHERE))


def due_items_in(conn: Connection, feed: str, now: datetime, limit: int = 100) -> list[ItemRow]:
    """``ItemRows.due_items`` inside the caller's transaction."""
    return _rows(_DUE_ITEMS.execute(conn, {"feed": feed, "now": now, "limit": limit}))


def enqueue_in(conn: Connection, feed: str, listed: Sequence[ItemInput], now: datetime) -> dict[str, int]:
    """``ItemRows.enqueue_items`` inside the caller's transaction."""
    seen: dict[str, ItemInput] = {}
    for inp in listed:
        seen.setdefault(inp.key, inp)
    rows = [
        dict(
            feed=feed,
            key=inp.key,
            url=inp.item.url,
            url_key=inp.url_key,
            guid=inp.item.guid,
            title=inp.item.title,
            summary=inp.item.summary,
            published_at=inp.item.published,
            title_key=inp.title_key,
            summary_hash=summary_hash(inp.item.summary),
            first_seen_at=now,
            last_seen_at=now,
            state=inp.state,
            reason_code=inp.reason_code,
            reason=inp.reason,
            attempts=0,
            next_try_at=now if inp.state == "pending" else None,
            updated_at=now,
        )
        for inp in seen.values()
    ]
    new: dict[str, int] = {}
    if not rows:
        return new
    # SQLite: a compiled-once INSERT … ON CONFLICT DO NOTHING RETURNING key per row on the
    # driver's cursor; PostgreSQL: one multi-row statement (one round trip). Then one
    # executemany for the known ones (was: a statement or two per item, issue 16)
    if conn.dialect.name == "sqlite":
        one = _enqueue_one("sqlite")
        added = {k for row in rows for k in one.execute(conn, row).scalars()}  # as stored: without NUL
    else:
        added = set(conn.execute(_enqueue(conn.dialect.name), rows).scalars())
    again = []
    for key, inp in seen.items():
        if (stored := key.replace("\x00", "")) in added:
            added.discard(stored)  # two keys stored as one (a NUL apart) are one new row
            new[inp.reason_code] = new.get(inp.reason_code, 0) + 1
        else:
            again.append({"b_feed": feed, "b_key": key, "b_now": now})
    _SEEN_AGAIN.execute_many(conn, again)
    return new


def resolve_item_in(
    conn: Connection,
    item_id: int,
    article_id: int,
    now: datetime,
    *,
    note: str = "",
    outcome: Outcome | None = None,
) -> ItemRow:
    """``ItemRows.resolve_item`` inside the caller's transaction (``Store.save_and_resolve``: the
    article and its item's outcome in one transaction). `outcome`: what the caller stored for the
    article in this same transaction (else it is read back)."""
    if outcome is None:
        outcome = Outcome(*conn.execute(_ARTICLE_OUTCOME, {"article_id": article_id}).one())
    n_alerts, n_matches, copy_of = outcome.alerts, outcome.matches, outcome.copy_of
    ref: int | None = None
    if n_alerts:
        state, code, reason = "alerted", "alerted", f"article #{article_id} made {n_alerts} alert(s)"
    elif copy_of is not None:
        state, code, ref = "copy", "same_text_as", int(copy_of)
        reason = f"article #{article_id} has the same text as article #{copy_of}"
    elif n_matches:
        state, code = "skipped", "story_alerted"
        reason = f"article #{article_id} matched, but its story or copy group had alerted already"
    else:
        state, code, reason = "matched_nothing", "matched_nothing", f"article #{article_id} matched no topic"
    reason += note
    values = dict(
        state=state,
        reason_code=code,
        reason=reason,
        article_id=article_id,
        ref_article_id=ref,
        next_try_at=None,
        updated_at=now,
    )
    row = _RESOLVE_FAST.execute(conn, {"item_id": item_id, **{f"new_{k}": v for k, v in values.items()}}).one()
    return _row(row)


def title_twin_in(conn: Connection, row: ItemRow) -> ItemRow | None:
    """``ItemRows.title_twin`` inside the caller's transaction."""
    if not row.title_key or not row.summary_hash:
        return None
    params = {
        "feed": row.feed,
        "title_key": row.title_key,
        "summary_hash": row.summary_hash,
        "item_id": row.id,
        "first_seen_at": row.first_seen_at,
        "published_at": row.published_at,
    }
    found = _TITLE_TWIN_FAST[row.published_at is not None].execute(conn, params).first()
    return _row(found) if found else None


def text_twin_in(conn: Connection, row: ItemRow, since: datetime) -> ItemRow | None:
    """``ItemRows.text_twin`` inside the caller's transaction."""
    if row.url:
        return None
    found = conn.execute(
        select(*_ITEM_COLS)
        .where(
            items.c.feed == row.feed,
            items.c.url == "",
            items.c.title == row.title,
            items.c.summary_hash == row.summary_hash,
            items.c.id != row.id,
            items.c.article_id.is_not(None),
            items.c.first_seen_at >= since,
            items.c.last_seen_at < row.first_seen_at,
        )
        .order_by(items.c.id)
        .limit(1)
    ).first()
    return _row(found) if found else None
