"""Typed values passed between pipeline stages (all frozen).

Data flows one way: Source -> FeedItem -> Article -> [Match] -> Alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as the feed states it."""

    feed: str  # feed name from config
    url: str  # article link (absolute), "" if the feed gave none
    guid: str  # the feed's id for the entry, "" if none
    title: str
    summary: str  # feed description as plain text
    published: datetime | None = None


@dataclass(frozen=True)
class SourceResult:
    """Items of one fetch of a source (any kind), the source's own polling hint and what looked wrong."""

    items: tuple[FeedItem, ...]
    ttl: float | None = None  # seconds the source asks us to wait (RSS <ttl>)
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ExtractedText:
    """Article text taken from a page: title and body, chrome removed.

    ``body`` holds paragraphs separated by a blank line ("\\n\\n").
    """

    title: str
    body: str


@dataclass(frozen=True)
class Article:
    """An article ready for matching."""

    url: str  # link as given by the feed
    url_key: str  # normalized URL used for dedup
    feed: str
    title: str
    body: str
    published: datetime | None = None
    text_source: str = "page"  # "page" (extracted) or "summary" (feed text fallback)


@dataclass(frozen=True)
class TermHit:
    """One occurrence of a topic term in an article field."""

    term: str  # the term as the user wrote it
    matched: str  # the article text that matched, as written there
    field: str  # "title" or "body"
    token: int  # index of the first matched token in the field
    start: int  # character offsets in the field's original text
    end: int
    group: str = ""  # "all[0]", "any", "none", "near[0][1]"
    variant: bool = False  # matched a spelling variant of a name, not the term as written
    weight: float = 1.0  # the term's weight in the topic's score


@dataclass(frozen=True)
class Match:
    """A topic that matched an article, with the evidence."""

    topic_id: str
    topic_name: str
    hits: tuple[TermHit, ...]
    snippet: str


@dataclass(frozen=True)
class TopicResult:
    """Why a topic matched or not (for explain)."""

    topic_id: str
    topic_name: str
    matched: bool
    reason: str
    hits: tuple[TermHit, ...] = field(default_factory=tuple)
    snippet: str = ""
    score: float = 0.0  # relevance score (see monitor/relevance.py)
    threshold: float = 0.0  # the topic's min_score


@dataclass(frozen=True)
class RenderedAlert:
    """A message ready for one channel kind."""

    subject: str  # one line, no CR/LF
    text: str  # plain text
    html: str  # HTML (Telegram-safe subset for telegram, full for email)
