"""The durable store: feed health, article dedup + kept text, matches, alert outbox.

Every public method runs in its own short transaction (``engine.begin()``), so
one Store is safe to share between worker threads. Inserts that may race use
the dialect's ``INSERT ... ON CONFLICT`` so concurrent writers never raise.
SQLite write transactions start with ``BEGIN IMMEDIATE`` (WAL, busy_timeout 30s)
so two writers queue instead of failing on a lock upgrade.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from monitor.errors import StoreError
from monitor.models import Article, Match
from monitor.storage import stories as _stories
from monitor.storage.schema import alert_messages, alerts, article_guids, articles, feeds, matches
from monitor.storage.stories import StoryInput

_MATCHES, _ALERTS = matches, alerts  # save_article's parameters shadow these names

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATE_LOCK = 7_301_944_120  # pg_advisory_xact_lock key: one migrator at a time


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---- records -------------------------------------------------------------
@dataclass(frozen=True)
class NewAlert:
    """An alert to put in the outbox with its article."""

    topic_id: str
    channel: str
    subject: str
    text: str
    html: str
    hold_until: datetime | None = None  # held for a digest until then
    digest: str | None = None  # why held: "hourly", "daily", "quiet"
    per: str = "article"  # "article": one per copy group; "story": one per story (needs a StoryInput)
    # per="story" with follow-ups on: (subject, text, html) sent instead of nothing when a non-copy
    # article joins a story whose alert was sent (as a reply to it; see storage/stories.follow_up_of)
    follow_up: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class FeedState:
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


@dataclass(frozen=True)
class KnownArticle:
    id: int
    url_key: str
    status: str  # "done" | "fetch_failed"
    fetch_attempts: int


@dataclass(frozen=True)
class OutboxAlert:
    id: int
    article_id: int
    topic_id: str
    channel: str
    subject: str
    text: str
    html: str
    attempts: int
    created_at: datetime
    status: str  # "pending" | "sent" | "dead"
    last_error: str | None
    next_attempt_at: datetime | None
    delivered: str = ""  # space-separated keys of targets already sent
    digest: str | None = None
    reply_to: int | None = None  # a story follow-up: the alert it follows (its message is replied to)


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


def _record(cls, row):
    m = row._mapping
    return cls(**{f.name: m[f.name] for f in fields(cls) if f.name in m})


def _cols(table, cls, **renamed):
    out = []
    for f in fields(cls):
        src = renamed.get(f.name, f.name)
        out.append(table.c[src].label(f.name) if src != f.name else table.c[src])
    return out


_FEED_COLS = _cols(feeds, FeedState)
_KNOWN_COLS = _cols(articles, KnownArticle)
_ALERT_COLS = _cols(alerts, OutboxAlert)
_STORED_COLS = _cols(articles, StoredArticle, published="published_at")


# ---- helpers -------------------------------------------------------------
def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: still never echo a password
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def _cause(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text


def _set_sqlite_pragmas(dbapi_conn, _record) -> None:
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


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """See the module docstring. Raises StoreError when unusable."""

    def __init__(self, url: str) -> None:
        self._safe = _safe_url(url)
        self._password = None
        self.engine: Engine | None = None
        try:
            u = make_url(url)
            self._password = u.password
            if u.get_backend_name() == "sqlite":
                engine = create_engine(u, connect_args={"timeout": 30, "check_same_thread": False})
                event.listen(engine, "connect", _set_sqlite_pragmas)
                event.listen(engine, "begin", _sqlite_begin)
            else:
                engine = create_engine(u, pool_pre_ping=True)
            self.engine = engine
            self.dialect = engine.dialect.name
            if self.dialect not in ("sqlite", "postgresql"):
                raise StoreError(f"unsupported database {self.dialect!r} (use sqlite or postgresql)")
            self._upgrade()
        except Exception as exc:
            if self.engine is not None:
                self.engine.dispose()
                self.engine = None
            cause = exc.args[0] if isinstance(exc, StoreError) else _cause(exc)
            raise StoreError(self._scrub(f"cannot open store {self._safe}: {cause}")) from None

    def _scrub(self, message: str) -> str:
        pw = self._password
        return message.replace(str(pw), "***") if pw else message

    def _upgrade(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATE_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        if self.engine is None:
            raise StoreError(f"store {self._safe} is closed")
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(self._scrub(f"store {self._safe}: {_cause(exc)}")) from exc

    def _insert(self, table):
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # ---- feeds -------------------------------------------------------------
    def feed_state(self, name: str) -> FeedState | None:
        with self.tx() as conn:
            row = conn.execute(select(*_FEED_COLS).where(feeds.c.name == name)).first()
        return _record(FeedState, row) if row else None

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
        now: datetime | None = None,
    ) -> None:
        """Upsert; clears last_error, the failure streak and the flag (last_error_at stays as
        history). A None etag/last_modified keeps the stored one (a 304 may omit them)."""
        now = now or utcnow()
        ins = self._insert(feeds).values(
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
        stmt = ins.on_conflict_do_update(
            index_elements=[feeds.c.name],
            set_={
                "url": ins.excluded.url,
                "etag": func.coalesce(ins.excluded.etag, feeds.c.etag),
                "last_modified": func.coalesce(ins.excluded.last_modified, feeds.c.last_modified),
                "last_polled_at": ins.excluded.last_polled_at,
                "last_success_at": ins.excluded.last_success_at,
                "last_error": None,
                "consecutive_failures": 0,
                "items_seen": feeds.c.items_seen + ins.excluded.items_seen,
                "next_poll_at": ins.excluded.next_poll_at,
                "failing_since": None,
                "flagged_at": None,
                "last_warning": ins.excluded.last_warning,
                "kind": func.coalesce(ins.excluded.kind, feeds.c.kind),
                "new_per_hour": func.coalesce(ins.excluded.new_per_hour, feeds.c.new_per_hour),
            },
        )
        with self.tx() as conn:
            conn.execute(stmt)

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
        ins = self._insert(feeds).values(
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
        return _record(FeedState, row)

    def link_guid(self, feed: str, guid: str, article_id: int) -> None:
        """Another key (e.g. a title fingerprint) that identifies a stored article in a feed."""
        with self.tx() as conn:
            self._link_guid(conn, feed, guid, article_id)

    def list_feeds(self) -> list[FeedState]:
        with self.tx() as conn:
            rows = conn.execute(select(*_FEED_COLS).order_by(feeds.c.name)).all()
        return [_record(FeedState, r) for r in rows]

    # ---- articles ----------------------------------------------------------
    def known(self, url_key: str, feed: str, guid: str) -> KnownArticle | None:
        with self.tx() as conn:
            row = conn.execute(select(*_KNOWN_COLS).where(articles.c.url_key == url_key)).first()
            if row is None and guid:
                row = conn.execute(
                    select(*_KNOWN_COLS)
                    .join_from(articles, article_guids, article_guids.c.article_id == articles.c.id)
                    .where(article_guids.c.feed == feed, article_guids.c.guid == guid)
                ).first()
        return _record(KnownArticle, row) if row else None

    def _link_guid(self, conn: Connection, feed: str, guid: str, article_id: int) -> None:
        if guid:
            conn.execute(
                self._insert(article_guids)
                .values(feed=feed, guid=guid, article_id=article_id)
                .on_conflict_do_nothing(index_elements=[article_guids.c.feed, article_guids.c.guid])
            )

    def record_fetch_failure(self, *, feed: str, url: str, url_key: str, guid: str, title: str, error: str) -> int:
        """Count a failed page fetch; returns the attempts so far (a done article is left alone)."""
        ins = self._insert(articles).values(
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
        (storage/stories.py) and an alert its group/story already has is not made again.
        Returns the article id, or None when the url_key was already done (nothing inserted).
        """
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
        ins = self._insert(articles).values(**values)
        keep = {"url_key", "fetch_attempts", "last_error"}
        stmt = ins.on_conflict_do_update(
            index_elements=[articles.c.url_key],
            set_={k: ins.excluded[k] for k in values if k not in keep},
            where=articles.c.status != "done",
        ).returning(articles.c.id)
        match_rows = [
            dict(
                topic_id=m.topic_id,
                snippet=m.snippet,
                created_at=now,
                hits=json.dumps([asdict(h) for h in m.hits], ensure_ascii=False),
            )
            for m in matches
        ]
        alert_rows = [
            dict(
                topic_id=a.topic_id,
                channel=a.channel,
                subject=a.subject,
                text=a.text,
                html=a.html,
                status="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=a.hold_until,
                digest=a.digest,
                per=a.per,
                follow_up=a.follow_up,
            )
            for a in alerts
        ]
        with self.tx() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return None
            article_id = int(row.id)
            self._link_guid(conn, article.feed, guid, article_id)
            if story is not None:
                placed = _stories.place(
                    conn, self.dialect, article_id, title=article.title, outlet=outlet, inp=story, now=now
                )
                alert_rows = [
                    r
                    for r in alert_rows
                    if not _stories.already_alerted(conn, placed, article_id, r["topic_id"], r["channel"], r["per"])
                    or _stories.make_follow_up(conn, placed, r, now, story.rules.follow_up_gap)
                ]
            for r in match_rows:
                conn.execute(
                    self._insert(_MATCHES)
                    .values(article_id=article_id, **r)
                    .on_conflict_do_nothing(index_elements=["article_id", "topic_id"])
                )
            for r in alert_rows:
                r.pop("per"), r.pop("follow_up")
                conn.execute(
                    self._insert(_ALERTS)
                    .values(article_id=article_id, **r)
                    .on_conflict_do_nothing(index_elements=["article_id", "topic_id", "channel"])
                )
        return article_id

    def articles_since(self, since: datetime) -> Iterator[StoredArticle]:
        """Done articles fetched at or after `since`, oldest first (read in batches)."""
        last_id = 0
        while True:
            with self.tx() as conn:
                rows = conn.execute(
                    select(*_STORED_COLS)
                    .where(articles.c.status == "done", articles.c.fetched_at >= since, articles.c.id > last_id)
                    .order_by(articles.c.id)
                    .limit(500)
                ).all()
            if not rows:
                return
            for r in rows:
                yield _record(StoredArticle, r)
            last_id = rows[-1].id

    def prune(self, older_than: datetime) -> int:
        """Drop the body of articles fetched before `older_than`; rows stay so nothing re-alerts."""
        with self.tx() as conn:
            result = conn.execute(
                update(articles).where(articles.c.fetched_at < older_than, articles.c.body != "").values(body="")
            )
        return int(result.rowcount or 0)

    # ---- near-duplicate index and stories (storage/stories.py) ----------------
    def prune_index(self, now: datetime, rules: _stories.StoryRules) -> int:
        with self.tx() as conn:
            return _stories.prune_index(conn, now, rules)

    def also_reported(self, article_id: int, per: str = "article") -> list[str]:
        with self.tx() as conn:
            return _stories.also_reported(conn, article_id, per)

    def stories(
        self,
        since: datetime,
        topic: str | None = None,
        limit: int = 50,
        *,
        min_articles: int = 1,
        matched_only: bool = False,
    ) -> list[_stories.Story]:
        with self.tx() as conn:
            return _stories.recent_stories(
                conn, since, topic, limit, min_articles=min_articles, matched_only=matched_only
            )

    def alert_source(self, alert_id: int) -> tuple[StoredArticle, str, str, str] | None:
        """(article, topic_id, hits JSON, snippet) an alert was rendered from."""
        with self.tx() as conn:
            row = conn.execute(
                select(
                    *_STORED_COLS,
                    matches.c.topic_id.label("m_topic"),
                    matches.c.hits.label("m_hits"),
                    matches.c.snippet.label("m_snippet"),
                )
                .join_from(alerts, articles, articles.c.id == alerts.c.article_id)
                .join(
                    matches, (matches.c.article_id == alerts.c.article_id) & (matches.c.topic_id == alerts.c.topic_id)
                )
                .where(alerts.c.id == alert_id)
            ).first()
        if row is None:
            return None
        return _record(StoredArticle, row), row.m_topic, row.m_hits, row.m_snippet

    # ---- outbox --------------------------------------------------------------
    def due_alerts(self, now: datetime, channel: str | None = None, limit: int = 100) -> list[OutboxAlert]:
        q = select(*_ALERT_COLS).where(
            alerts.c.status == "pending", (alerts.c.next_attempt_at.is_(None)) | (alerts.c.next_attempt_at <= now)
        )
        if channel is not None:
            q = q.where(alerts.c.channel == channel)
        q = q.order_by(alerts.c.created_at, alerts.c.id).limit(limit)
        with self.tx() as conn:
            rows = conn.execute(q).all()
        return [_record(OutboxAlert, r) for r in rows]

    def _update_alert(self, alert_id: int, *where, **values) -> int:
        with self.tx() as conn:
            result = conn.execute(update(alerts).where(alerts.c.id == alert_id, *where).values(**values))
        return int(result.rowcount or 0)

    def mark_sent(self, alert_id: int, now: datetime) -> None:
        self._update_alert(alert_id, status="sent", sent_at=now, next_attempt_at=None)

    def mark_failed(self, alert_id: int, error: str, next_attempt_at: datetime) -> None:
        """One more failed attempt; stays pending until `next_attempt_at`."""
        self._update_alert(alert_id, attempts=alerts.c.attempts + 1, last_error=error, next_attempt_at=next_attempt_at)

    def mark_dead(self, alert_id: int, error: str, notice: NewAlert | None = None) -> None:
        """Give up (counts as an attempt); `notice` (an ops message) is queued in the same
        transaction, once per dead alert."""
        with self.tx() as conn:
            row = conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id)
                .values(status="dead", attempts=alerts.c.attempts + 1, last_error=error, next_attempt_at=None)
                .returning(alerts.c.article_id)
            ).first()
            if row is not None and notice is not None:
                conn.execute(
                    self._insert(_ALERTS)
                    .values(
                        article_id=row.article_id,
                        topic_id=notice.topic_id,
                        channel=notice.channel,
                        subject=notice.subject,
                        text=notice.text,
                        html=notice.html,
                        status="pending",
                        attempts=0,
                        created_at=utcnow(),
                        delivered="",
                    )
                    .on_conflict_do_nothing(index_elements=["article_id", "topic_id", "channel"])
                )

    def mark_delivered(self, alert_ids: list[int], key: str) -> None:
        """Record that target `key` got these alerts (a retry skips it)."""
        with self.tx() as conn:
            for alert_id in alert_ids:
                conn.execute(
                    update(alerts)
                    .where(alerts.c.id == alert_id)
                    .values(delivered=func.trim(alerts.c.delivered + " " + key))
                )

    def record_message(self, alert_id: int, target: str, message_id: str) -> None:
        """What `target` called the message that carried the alert (Telegram: its message_id)."""
        with self.tx() as conn:
            conn.execute(
                self._insert(alert_messages)
                .values(alert_id=alert_id, target=target, message_id=str(message_id))
                .on_conflict_do_nothing(index_elements=["alert_id", "target"])
            )

    def message_ref(self, alert_id: int, target: str) -> str | None:
        with self.tx() as conn:
            return conn.execute(
                select(alert_messages.c.message_id).where(
                    alert_messages.c.alert_id == alert_id, alert_messages.c.target == target
                )
            ).scalar()

    def channel_due(
        self, channel: str, now: datetime, *, ignore_backoff: bool = False, limit: int = 100
    ) -> list[OutboxAlert]:
        """Pending alerts of `channel` due at `now`, oldest first. `ignore_backoff` also
        takes failed ones still waiting to retry (never alerts held for a digest)."""
        due = alerts.c.next_attempt_at.is_(None) | (alerts.c.next_attempt_at <= now)
        if ignore_backoff:
            due = due | alerts.c.digest.is_(None) | (alerts.c.attempts > 0)
        q = (
            select(*_ALERT_COLS)
            .where(alerts.c.status == "pending", alerts.c.channel == channel, due)
            .order_by(alerts.c.created_at, alerts.c.id)
            .limit(limit)
        )
        with self.tx() as conn:
            rows = conn.execute(q).all()
        return [_record(OutboxAlert, r) for r in rows]

    def next_due(self, channel: str) -> datetime | None:
        """When the next pending alert of `channel` is due (None: nothing pending)."""
        with self.tx() as conn:
            pending = alerts.c.status == "pending"
            if conn.execute(
                select(alerts.c.id)
                .where(pending, alerts.c.channel == channel, alerts.c.next_attempt_at.is_(None))
                .limit(1)
            ).first():
                return datetime.min.replace(tzinfo=UTC)
            return conn.execute(
                select(func.min(alerts.c.next_attempt_at)).where(pending, alerts.c.channel == channel)
            ).scalar()

    def alert_articles(self, article_ids: list[int]) -> dict[int, StoredArticle]:
        """The articles behind some alerts (for digests), by id."""
        if not article_ids:
            return {}
        with self.tx() as conn:
            rows = conn.execute(select(*_STORED_COLS).where(articles.c.id.in_(set(article_ids)))).all()
        return {r.id: _record(StoredArticle, r) for r in rows}

    def pending_by_channel(self) -> dict[str, int]:
        """Pending alerts per channel name."""
        with self.tx() as conn:
            rows = conn.execute(
                select(alerts.c.channel, func.count()).where(alerts.c.status == "pending").group_by(alerts.c.channel)
            ).all()
        return {str(c): int(n) for c, n in rows}

    def get_alert(self, alert_id: int) -> OutboxAlert | None:
        with self.tx() as conn:
            row = conn.execute(select(*_ALERT_COLS).where(alerts.c.id == alert_id)).first()
        return _record(OutboxAlert, row) if row else None

    def list_alerts(self, status: str | None = None, limit: int = 100) -> list[OutboxAlert]:
        """Newest first."""
        q = select(*_ALERT_COLS)
        if status is not None:
            q = q.where(alerts.c.status == status)
        q = q.order_by(alerts.c.created_at.desc(), alerts.c.id.desc()).limit(limit)
        with self.tx() as conn:
            rows = conn.execute(q).all()
        return [_record(OutboxAlert, r) for r in rows]

    def requeue(self, alert_id: int) -> bool:
        """A dead alert back to pending with attempts 0, its refused targets to be tried
        again (targets that got it are kept); False if it is not dead."""
        with self.tx() as conn:
            row = conn.execute(
                select(alerts.c.delivered).where(alerts.c.id == alert_id, alerts.c.status == "dead")
            ).first()
            if row is None:
                return False
            kept = " ".join(k for k in (row.delivered or "").split() if not k.startswith("dead:"))
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id)
                .values(status="pending", attempts=0, next_attempt_at=None, digest=None, delivered=kept)
            )
        return True

    def retry_now(self, alert_id: int) -> bool:
        """A pending alert that failed before ("retrying") due now, its attempts kept;
        False if it is not pending with attempts, or held for a digest."""
        with self.tx() as conn:
            done = conn.execute(
                update(alerts)
                .where(
                    alerts.c.id == alert_id,
                    alerts.c.status == "pending",
                    alerts.c.attempts > 0,
                    alerts.c.digest.is_(None),
                )
                .values(next_attempt_at=None)
            ).rowcount
        return bool(done)

    def counts(self) -> dict[str, int]:
        """articles (done), articles_failed (fetch_failed), matches, alerts_pending/sent/dead."""
        with self.tx() as conn:
            by_status = dict(conn.execute(select(articles.c.status, func.count()).group_by(articles.c.status)).all())
            n_matches = conn.execute(select(func.count()).select_from(matches)).scalar_one()
            by_alert = dict(conn.execute(select(alerts.c.status, func.count()).group_by(alerts.c.status)).all())
        return {
            "articles": int(by_status.get("done", 0)),
            "articles_failed": int(by_status.get("fetch_failed", 0)),
            "matches": int(n_matches),
            "alerts_pending": int(by_alert.get("pending", 0)),
            "alerts_sent": int(by_alert.get("sent", 0)),
            "alerts_dead": int(by_alert.get("dead", 0)),
        }
