"""Article rows (tables ``articles``, ``article_guids``, ``matches``): dedup keys, kept text,
page-fetch retries, and the one transaction that stores a processed article."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, case, literal, select, union_all, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Executable

from monitor.models import Article, Match, NewAlert, TermHit
from monitor.storage.db import DIALECTS, Database, columns, dialect_insert, record, utcnow
from monitor.storage.items import ItemRow, Outcome, Resolution, resolve_item_in
from monitor.storage.prepared import Prepared
from monitor.storage.schema import alerts as alerts_table
from monitor.storage.schema import article_guids, articles
from monitor.storage.schema import matches as matches_table
from monitor.storage.stories import Placement, StoryInput, already_alerted, follow_up_of, place


@dataclass(frozen=True)
class KnownArticle:
    id: int
    url_key: str
    status: str  # "done" | "fetch_failed"
    fetch_attempts: int


@dataclass(frozen=True)
class SavedArticle:
    """``Store.save_article(..., resolve=)``'s answer: the article's id and its ledger item as
    resolved in the same transaction."""

    id: int
    item: ItemRow


@dataclass(frozen=True)
class StoredArticle:
    id: int
    url: str
    feed: str
    outlet: str
    title: str
    body: str
    fetched_at: datetime
    published: datetime | None = None


_KNOWN_COLS = columns(articles, KnownArticle)
STORED_COLS = columns(articles, StoredArticle, published="published_at")  # also read by outbox.py

# The per-article statements, built once with bound parameters: building a statement per
# call (its column expressions, values and cache key) cost more than SQLite running it
# (issue 16: ≈ 1-2 ms per article).


@lru_cache(maxsize=8)
def _known_query(n_guids: int) -> Prepared:
    """``known``'s one query: the article under the key (rank 0), or under (feed, guid i) (rank
    i + 1), the lowest rank first; guids bound as ``g0`` … (one statement per count)."""
    by_key = select(*_KNOWN_COLS, literal(0).label("rank")).where(articles.c.url_key == bindparam("url_key"))
    if not n_guids:
        return Prepared(by_key)
    names = [f"g{i}" for i in range(n_guids)]
    rank = case(*[(article_guids.c.guid == bindparam(g), i + 1) for i, g in enumerate(names)]).label("rank")
    by_guid = (
        select(*_KNOWN_COLS, rank)
        .join_from(articles, article_guids, article_guids.c.article_id == articles.c.id)
        .where(article_guids.c.feed == bindparam("feed"), article_guids.c.guid.in_([bindparam(g) for g in names]))
    )
    return Prepared(union_all(by_key, by_guid).order_by("rank").limit(1))


_ARTICLE_VALUES = (
    "url_key",
    "url",
    "feed",
    "outlet",
    "guid",
    "title",
    "body",
    "published_at",
    "fetched_at",
    "status",
    "fetch_attempts",
    "last_error",
    "text_source",
)
_KEEP_ON_REDO = {"url_key", "fetch_attempts", "last_error"}  # a fetch_failed row turned done keeps these


@dataclass(frozen=True)
class _Statements:
    """One dialect's upserts of the article hot path (see ``_statements``)."""

    save_article: Prepared
    link_guid: Prepared
    add_match: Executable
    add_alert: Executable


@lru_cache(maxsize=len(DIALECTS))
def _statements(dialect: str) -> _Statements:
    """The hot-path upserts in `dialect`'s INSERT … ON CONFLICT, built once per process."""
    insert = dialect_insert(dialect)
    ins = insert(articles)
    save = ins.on_conflict_do_update(
        index_elements=[articles.c.url_key],
        set_={k: ins.excluded[k] for k in _ARTICLE_VALUES if k not in _KEEP_ON_REDO},
        where=articles.c.status != "done",
    ).returning(articles.c.id)
    return _Statements(
        save_article=Prepared(save, _ARTICLE_VALUES),
        link_guid=Prepared(
            insert(article_guids).on_conflict_do_nothing(index_elements=[article_guids.c.feed, article_guids.c.guid]),
            ("feed", "guid", "article_id"),
        ),
        add_match=insert(matches_table).on_conflict_do_nothing(index_elements=["article_id", "topic_id"]),
        add_alert=insert(alerts_table).on_conflict_do_nothing(index_elements=["article_id", "topic_id", "channel"]),
    )


_HIT_FIELDS = tuple(f.name for f in fields(TermHit))


def hits_json(m: Match) -> str:
    """The ``matches.hits`` column: a JSON list of the match's hits, one object of TermHit's
    fields each (as ``dataclasses.asdict`` gives, without its deep copy: ≈ 1 ms per match of
    a few dozen hits, issue 16)."""
    return json.dumps([{k: getattr(h, k) for k in _HIT_FIELDS} for h in m.hits], ensure_ascii=False)


def known_in(conn: Connection, url_key: str, feed: str, *guids: str) -> KnownArticle | None:
    """``ArticleRows.known`` inside the caller's transaction (one query)."""
    given = [g for g in guids if g]
    params: dict[str, str] = {"url_key": url_key, "feed": feed, **{f"g{i}": g for i, g in enumerate(given)}}
    row = _known_query(len(given)).execute(conn, params).first()
    return record(KnownArticle, row) if row else None


def _alert_values(alert: NewAlert, now: datetime, reply_to: int | None = None) -> dict[str, Any]:
    """The ``alerts`` row of `alert` (without article_id). With `reply_to`, the row is the
    alert's follow-up: its follow-up text, replying to alert `reply_to`."""
    subject, text, html = (alert.subject, alert.text, alert.html)
    if reply_to is not None and alert.follow_up is not None:
        subject, text, html = alert.follow_up
    return dict(
        topic_id=alert.topic_id,
        channel=alert.channel,
        subject=subject,
        text=text,
        html=html,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=alert.hold_until,
        digest=alert.digest,
        reply_to=reply_to,
    )


def _placed_alert_rows(
    conn: Connection,
    placed: Placement,
    article_id: int,
    alerts: list[NewAlert],
    now: datetime,
    gap: timedelta,
    by_feeds: frozenset[str] | None = None,
) -> list[dict[str, Any]]:
    """The ``alerts`` rows to insert for a placed article: an alert its copy group or story
    does not have yet; else its follow-up when one is due (stories.follow_up_of); else none.
    Every alert is decided before any is inserted."""
    rows = []
    for a in alerts:
        if not already_alerted(conn, placed, article_id, a.topic_id, a.channel, a.per, by_feeds):
            rows.append(_alert_values(a, now))
        elif (parent := follow_up_of(conn, placed, a, now, gap)) is not None:
            rows.append(_alert_values(a, now, reply_to=parent))
    return rows


class ArticleRows(Database):
    """Reads and writes of articles, their guids and matches (raise StoreError)."""

    def known(self, url_key: str, feed: str, guid: str, *more_guids: str) -> KnownArticle | None:
        """The article stored under `url_key`, else under (`feed`, `guid`), else under each of
        `more_guids` in turn (an empty one is skipped); None if none. One transaction."""
        with self.tx(write=False) as conn:
            return known_in(conn, url_key, feed, guid, *more_guids)

    def link_guid(self, feed: str, guid: str, article_id: int) -> None:
        """Another key (e.g. a title fingerprint) that identifies a stored article in a feed."""
        with self.tx() as conn:
            self._link_guid(conn, feed, guid, article_id)

    def _link_guid(self, conn: Connection, feed: str, guid: str, article_id: int) -> None:
        if guid:
            _statements(self.dialect).link_guid.execute(conn, {"feed": feed, "guid": guid, "article_id": article_id})

    def record_fetch_failure(self, *, feed: str, url: str, url_key: str, guid: str, title: str, error: str) -> int:
        """Count a failed page fetch; returns the attempts so far (a done article is left alone)."""
        ins = self.insert_into(articles).values(
            url_key=url_key,
            url=url,
            feed=feed,
            outlet="",
            guid=guid,
            title=title,
            body="",
            status="fetch_failed",
            fetch_attempts=1,
            last_error=error,
            text_source="",
        )
        stmt = ins.on_conflict_do_update(
            index_elements=[articles.c.url_key],
            set_={"fetch_attempts": articles.c.fetch_attempts + 1, "last_error": ins.excluded.last_error},
            where=articles.c.status == "fetch_failed",
        ).returning(articles.c.id, articles.c.fetch_attempts)
        with self.tx() as conn:
            row = conn.execute(stmt).first()
            if row is None:  # already done
                row = conn.execute(
                    select(articles.c.id, articles.c.fetch_attempts).where(articles.c.url_key == url_key)
                ).one()
            self._link_guid(conn, feed, guid, row.id)
        return int(row.fetch_attempts)

    def save_article(
        self,
        article: Article,
        *,
        guid: str,
        outlet: str,
        matches: list[Match],
        alerts: list[NewAlert],
        story: StoryInput | None = None,
        now: datetime | None = None,
    ) -> int | None:
        """Store a processed article with its matches and outbox alerts in one transaction.

        With `story`, the article is also placed in its copy group or story
        (storage/stories.py) and an alert its group/story already has is not made again
        (or is made as the story's follow-up: stories.follow_up_of).
        Returns the article id, or None when the url_key was already done (nothing inserted).
        """
        with self.tx() as conn:
            saved = self._save_in(conn, article, guid, outlet, matches, alerts, story, now)
        return saved[0] if saved is not None else None

    def save_and_resolve(
        self,
        article: Article,
        *,
        guid: str,
        outlet: str,
        matches: list[Match],
        alerts: list[NewAlert],
        resolve: Resolution,
        story: StoryInput | None = None,
    ) -> SavedArticle | None:
        """``save_article`` and then ``resolve_item`` of its ledger item in the same transaction
        (one transaction less per article, issue 16). None, and the item left alone, when the
        url_key was already done."""
        with self.tx() as conn:
            saved = self._save_in(conn, article, guid, outlet, matches, alerts, story, None)
            if saved is None:
                return None
            article_id, outcome = saved
            item = resolve_item_in(conn, resolve.item_id, article_id, resolve.now, note=resolve.note, outcome=outcome)
            return SavedArticle(article_id, item)

    def _save_in(
        self,
        conn: Connection,
        article: Article,
        guid: str,
        outlet: str,
        matches: list[Match],
        alerts: list[NewAlert],
        story: StoryInput | None,
        now: datetime | None,
    ) -> tuple[int, Outcome] | None:
        """(article id, what was stored for it), or None when the url_key was done already. The
        article row is new or was a ``fetch_failed`` one, which has no matches, alerts nor story
        row: so what this inserts is all the article has."""
        now = now or utcnow()
        values = dict(
            url_key=article.url_key,
            url=article.url,
            feed=article.feed,
            outlet=outlet,
            guid=guid,
            title=article.title,
            body=article.body,
            published_at=article.published,
            fetched_at=now,
            status="done",
            fetch_attempts=0,
            last_error=None,
            text_source=article.text_source,
        )
        sql = _statements(self.dialect)
        match_rows = [
            dict(
                topic_id=m.topic_id,
                snippet=m.snippet,
                created_at=now,
                hits=hits_json(m),
            )
            for m in matches
        ]
        row = sql.save_article.execute(conn, values).first()
        if row is None:
            return None
        article_id = int(row.id)
        self._link_guid(conn, article.feed, guid, article_id)
        copy_of: int | None = None
        if story is None:
            alert_rows = [_alert_values(a, now) for a in alerts]
        else:
            placed = place(
                conn, self.dialect, article_id, title=article.title, outlet=outlet, inp=story, now=now, url=article.url
            )
            alert_rows = _placed_alert_rows(
                conn, placed, article_id, alerts, now, story.rules.follow_up_gap, story.suppressed_by
            )
            copy_of = placed.copy_of
        # one executemany per table, statements built once per dialect (_statements)
        if match_rows:
            conn.execute(sql.add_match, [{**r, "article_id": article_id} for r in match_rows])
        if alert_rows:
            conn.execute(sql.add_alert, [{**r, "article_id": article_id} for r in alert_rows])
        outcome = Outcome(
            alerts=len({(r["topic_id"], r["channel"]) for r in alert_rows}),
            matches=len({r["topic_id"] for r in match_rows}),
            copy_of=copy_of,
        )
        return article_id, outcome

    def add_matches(self, article_id: int, matches: list[Match], alerts: list[NewAlert], now: datetime) -> list[str]:
        """Add to a stored article the matches of topics it had not matched (another feed
        listed it, and a topic limited by ``feeds:``/``languages:`` applies there), each with
        its alerts, in one transaction. Returns the topic ids added (a topic matched before
        is left alone, so no alert is made twice)."""
        added: list[str] = []
        with self.tx() as conn:
            for m in matches:
                row = dict(
                    topic_id=m.topic_id,
                    snippet=m.snippet,
                    created_at=now,
                    hits=hits_json(m),
                )
                done = conn.execute(
                    self.insert_into(matches_table)
                    .values(article_id=article_id, **row)
                    .on_conflict_do_nothing(index_elements=["article_id", "topic_id"])
                )
                if not done.rowcount:
                    continue
                added.append(m.topic_id)
                for a in alerts:
                    if a.topic_id == m.topic_id:
                        conn.execute(
                            self.insert_into(alerts_table)
                            .values(article_id=article_id, **_alert_values(a, now))
                            .on_conflict_do_nothing(index_elements=["article_id", "topic_id", "channel"])
                        )
        return added

    def stored_article(self, article_id: int) -> StoredArticle | None:
        with self.tx(write=False) as conn:
            row = conn.execute(select(*STORED_COLS).where(articles.c.id == article_id)).first()
        return record(StoredArticle, row) if row else None

    def articles_since(self, since: datetime) -> Iterator[StoredArticle]:
        """Done articles fetched at or after `since`, oldest first (read in batches)."""
        last_id = 0
        while True:
            with self.tx() as conn:
                rows = conn.execute(
                    select(*STORED_COLS)
                    .where(articles.c.status == "done", articles.c.fetched_at >= since, articles.c.id > last_id)
                    .order_by(articles.c.id)
                    .limit(500)
                ).all()
            if not rows:
                return
            for r in rows:
                yield record(StoredArticle, r)
            last_id = rows[-1].id

    def prune(self, older_than: datetime) -> int:
        """Drop the body of articles fetched before `older_than`; rows stay so nothing re-alerts."""
        with self.tx() as conn:
            result = conn.execute(
                update(articles).where(articles.c.fetched_at < older_than, articles.c.body != "").values(body="")
            )
        return int(result.rowcount or 0)
