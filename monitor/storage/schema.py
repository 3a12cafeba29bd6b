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
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("items_seen", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime),  # not polled before this (backoff, Retry-After, ttl)
    Column("failing_since", UTCDateTime),  # first failure of the current streak
    Column("flagged_at", UTCDateTime),  # set once the streak lasted fetch.flag_after
    Column("last_warning", Text),  # what the last successful poll found odd
    Column("kind", String(20)),  # rss | page | sitemap
    Column("new_per_hour", Float),  # adaptive polling: smoothed rate of new items
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url_key", Text, nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("feed", String(200), nullable=False),
    Column("outlet", String(200), nullable=False, default=""),
    Column("guid", Text, nullable=False, default=""),
    Column("title", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("published_at", UTCDateTime),
    Column("fetched_at", UTCDateTime, index=True),
    Column("status", String(20), nullable=False),
    Column("fetch_attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("text_source", String(20), nullable=False, default=""),
)

article_guids = Table(
    "article_guids",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed", String(200), nullable=False),
    Column("guid", Text, nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("feed", "guid"),
)

matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("topic_id", String(200), nullable=False),
    Column("hits", Text, nullable=False),
    Column("snippet", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("article_id", "topic_id"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("topic_id", String(200), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("delivered", Text, nullable=False, default="", server_default=""),  # 0002
    Column("digest", String(20)),  # 0002
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
    Column("title", Text, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False, index=True),
    Column("n_articles", Integer, nullable=False),
    Column("profile", Text, nullable=False),  # JSON {key term: weight}
)

story_terms = Table(  # inverted index of open stories' key terms: candidate lookup
    "story_terms",
    metadata,
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("term", String(100), primary_key=True, index=True),
)

story_articles = Table(
    "story_articles",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("copy_of", Integer, index=True),  # first article of its copy group; NULL if first
    Column("jaccard", Float),  # with copy_of
    Column("score", Float),  # story similarity when it joined by clustering
    Column("outlet", String(200), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)


# ---- sent message ids (revision 0006) ----------------------------------------
# What a target answered when it took an alert (Telegram: the message_id), so a
# story's follow-up can be sent as a reply to it.
alert_messages = Table(
    "alert_messages",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("target", String(40), primary_key=True),  # outbox.target_key(url)
    Column("message_id", String(200), nullable=False),
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
