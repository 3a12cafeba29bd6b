"""Table definitions (SQLAlchemy Core) on one MetaData.

Datetimes are stored as UTC. ``UTCDateTime`` converts on the way in (aware ->
UTC; naive is taken as UTC) and always returns aware UTC datetimes (SQLite
hands back naive values).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class NulFreeText(TypeDecorator[str]):
    """Text without NUL: PostgreSQL refuses U+0000 in text ("A string literal cannot
    contain NUL"), which would make an item with a NUL in its title fail on every poll;
    so NUL is dropped on the way in, on every dialect alike."""

    impl: type[String] = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value.replace("\x00", "") if isinstance(value, str) and "\x00" in value else value


class NulFreeString(NulFreeText):
    """String(n) without NUL (see NulFreeText)."""

    impl = String
    cache_ok = True


class UTCDateTime(TypeDecorator[datetime]):
    """DateTime(timezone=True) that is always UTC and aware in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":  # stored as text: keep one naive UTC format so comparisons hold
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", NulFreeString(200), nullable=False, unique=True),
    Column("url", NulFreeText, nullable=False),
    Column("etag", NulFreeText),
    Column("last_modified", NulFreeText),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", NulFreeText),
    Column("last_error_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("items_seen", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime),  # not polled before this (backoff, Retry-After, ttl)
    Column("failing_since", UTCDateTime),  # first failure of the current streak
    Column("flagged_at", UTCDateTime),  # set once the streak lasted fetch.flag_after
    Column("last_warning", NulFreeText),  # what the last successful poll found odd
    Column("kind", NulFreeString(20)),  # rss | page | sitemap
    Column("new_per_hour", Float),  # adaptive polling: smoothed rate of new items
    Column("body_hash", NulFreeString(64)),  # 0012: digest of the last full answer (fetch.validators)
    Column("full_fetch_at", UTCDateTime),  # 0012: the last full answer (a 200 with a body)
    Column("untrusted", NulFreeString(40)),  # 0012: validators caught lying, no longer sent
    Column("untrusted_reason", NulFreeText),  # 0012: what they did
    Column("untrusted_at", UTCDateTime),  # 0012: when the last one was caught
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url_key", NulFreeText, nullable=False, unique=True),
    Column("url", NulFreeText, nullable=False),
    Column("feed", NulFreeString(200), nullable=False),
    Column("outlet", NulFreeString(200), nullable=False, default=""),
    Column("guid", NulFreeText, nullable=False, default=""),
    Column("title", NulFreeText, nullable=False, default=""),
    Column("body", NulFreeText, nullable=False, default=""),
    Column("published_at", UTCDateTime),
    Column("fetched_at", UTCDateTime, index=True),
    Column("status", NulFreeString(20), nullable=False),
    Column("fetch_attempts", Integer, nullable=False, default=0),
    Column("last_error", NulFreeText),
    Column("text_source", NulFreeString(20), nullable=False, default=""),
)

article_guids = Table(
    "article_guids",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed", NulFreeString(200), nullable=False),
    Column("guid", NulFreeText, nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("feed", "guid"),
)

matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("topic_id", NulFreeString(200), nullable=False),
    Column("hits", NulFreeText, nullable=False),
    Column("snippet", NulFreeText, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("article_id", "topic_id"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("topic_id", NulFreeString(200), nullable=False),
    Column("channel", NulFreeString(200), nullable=False),
    Column("subject", NulFreeText, nullable=False),
    Column("text", NulFreeText, nullable=False),
    Column("html", NulFreeText, nullable=False),
    Column("status", NulFreeString(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", NulFreeText),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("delivered", NulFreeText, nullable=False, default="", server_default=""),  # 0002
    Column("digest", NulFreeString(20)),  # 0002
    Column("reply_to", Integer),  # 0006: a follow-up: the id of the story's first alert on this channel
    UniqueConstraint("article_id", "topic_id", "channel"),
    Index("ix_alerts_channel_status", "channel", "status"),
)

# ---- near-duplicate index and stories (revision 0005) ----------------------
# The index holds articles of the last `dedup.window` only (pruned), so its
# size follows the window, not the archive.
neardup_entries = Table(
    "neardup_entries",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("indexed_at", UTCDateTime, nullable=False, index=True),
    Column("shingles", LargeBinary, nullable=False),  # sorted uint32 little-endian
)

neardup_bands = Table(
    "neardup_bands",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("band", BigInteger, nullable=False, index=True),
    Column(
        "article_id", Integer, ForeignKey("neardup_entries.article_id", ondelete="CASCADE"), nullable=False, index=True
    ),
)

stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", NulFreeText, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False, index=True),
    Column("n_articles", Integer, nullable=False),
    Column("profile", NulFreeText, nullable=False),  # JSON {key term: weight}
)

story_terms = Table(  # inverted index of open stories' key terms: candidate lookup
    "story_terms",
    metadata,
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("term", NulFreeString(100), primary_key=True, index=True),
)

story_articles = Table(
    "story_articles",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("copy_of", Integer, index=True),  # first article of its copy group; NULL if first
    Column("jaccard", Float),  # with copy_of
    Column("score", Float),  # story similarity when it joined by clustering
    Column("outlet", NulFreeString(200), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("profile", NulFreeText),  # 0010: the article's key terms, JSON {term: weight}; NULL before 0010
    Column("echoes", NulFreeText),  # 0013: title key terms its lead repeats, JSON [term]; NULL before 0013
    Column("head", NulFreeText),  # 0017: key terms of its title and body's start, JSON {term: weight}
    Column("words", Integer),  # 0017: a feed summary's body words; NULL for a page's text and before 0017
)


# ---- sent message ids (revision 0006) ----------------------------------------
# What a target answered when it took an alert (Telegram: the message_id), so a
# story's follow-up can be sent as a reply to it.
alert_messages = Table(
    "alert_messages",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("target", NulFreeString(40), primary_key=True),  # outbox.target_key(url)
    Column("message_id", NulFreeString(200), nullable=False),
)


# ---- Telegram chat migrations (revision 0008) ----------------------------------
# A group upgraded to a supergroup gets a new chat id (the Bot API's 400 with
# parameters.migrate_to_chat_id). Kept per target (outbox.target_key of the configured
# URL), so later alerts go to the new chat until the config's URL changes (issue 12, loss 7).
chat_migrations = Table(
    "chat_migrations",
    metadata,
    Column("target", String(40), primary_key=True),  # outbox.target_key(url)
    Column("old_chat", String(64), primary_key=True),
    Column("new_chat", String(64), nullable=False),
    Column("migrated_at", UTCDateTime, nullable=False),
)

# Cluster mode (service/cluster.py): one row per `monitor run` node, beaten every few seconds.
# procrastinate's own tables (procrastinate_jobs, procrastinate_workers, ...) are created by
# migration 0009 on PostgreSQL and read as plain SQL (storage/cluster.py).
cluster_nodes = Table(
    "cluster_nodes",
    metadata,
    Column("name", String(200), primary_key=True),  # host:pid:suffix unless named (MONITOR_NODE)
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_beat", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime, nullable=True),  # a clean stop; None while running or after a kill
    Column("worker_id", BigInteger, nullable=True),  # 0011: its procrastinate worker now (None: none running)
    Column("stall_after", Float, nullable=True),  # 0011: its own cluster_stall_after, seconds
)

# ---- cluster: holds across the cluster (0014; keyed by target or rate since 0015) ---------
target_holds = Table(
    "target_holds",
    metadata,
    Column("kind", String(10), primary_key=True),  # "server" (a target's server asked) or "rate" (our rate:)
    Column("holder", String(200), primary_key=True),  # server: the target's identity hash; rate: the channel
    Column("channel", String(200), nullable=False),  # the channel that wrote it
    Column("target", String(200), nullable=False),  # the target, secrets left out ("" for a rate hold)
    Column("until", UTCDateTime, nullable=False),  # the database's clock, never a node's
    Column("reason", String(40), nullable=False),  # "flood wait", "failure" or "rate"
    Column("rate", String(100), nullable=True),  # rate: the limits it was computed from
)

# ---- apprise's verdicts on channel URLs, kept between processes (0016; storage/checkcache.py) ----
channel_checks = Table(
    "channel_checks",
    metadata,
    Column("key", String(64), primary_key=True),  # config/checkcache.check_key: never the URL itself
    Column("warnings", Text, nullable=False),  # JSON list of the check's warnings (no secret: reworded)
    Column("checked_at", UTCDateTime, nullable=False),  # rows older than KEEP_DAYS are deleted
)
