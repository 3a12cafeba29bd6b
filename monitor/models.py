"""Typed values passed between pipeline stages (all frozen).

Data flows one way: Source -> FeedItem -> Article -> [Match] -> Alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)  # before RSS existed: a placeholder, not a date
FUTURE_SLACK = timedelta(days=2)  # time zones and clock skew


def plausible_date(when: datetime | None, now: datetime | None = None) -> datetime | None:
    """`when` in UTC if it can be a news item's publication time, else None.

    Naive times are taken as UTC. Refused: before EARLIEST, after `now` + FUTURE_SLACK,
    and times at the calendar's edge (.NET's ``0001-01-01T00:00:00``, ``9999-12-31``
    placeholders) that cannot even be moved to UTC or shown in a channel's time zone
    (OverflowError: SAP/python-pyodata#80, jelmer/xandikos#538). One rule for every
    source of a date: feeds, sitemaps and pages (JSON-LD)."""
    if when is None:
        return None
    try:
        utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    now = now or datetime.now(UTC)
    if utc < EARLIEST or utc > now + FUTURE_SLACK:
        return None
    return utc


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

    ``body`` holds paragraphs separated by a blank line ("\\n\\n"). ``source`` says where
    the body came from: "page" (the visible HTML), "jsonld" (schema.org articleBody),
    "hydration" (framework data such as __NEXT_DATA__) or "noscript". ``published`` is
    the date the structured data gives (UTC), None otherwise.
    """

    title: str
    body: str
    published: datetime | None = None
    source: str = "page"


@dataclass(frozen=True)
class Article:
    """An article ready for matching."""

    url: str  # link as given by the feed; the final URL when it was a wrapper or an interstitial
    url_key: str  # normalized URL used for dedup
    feed: str
    title: str
    body: str
    published: datetime | None = None
    text_source: str = "page"  # "page" (extracted), "summary" (feed text fallback), "interstitial" (see extract)


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
    score: float = 0.0  # relevance score (see monitor/matching/relevance.py)
    threshold: float = 0.0  # the topic's min_score
    groups: tuple[tuple[str, float], ...] = ()  # (label, score) per positive group with hits (relevance.judge)
    weakest: str = ""  # the positive group with the lowest score: what held a near miss back


@dataclass(frozen=True)
class ReportedBy:
    """Another article of an alert's copy group (or story): its outlet and its link as stored.

    The renderer shows ``outlet`` linked to ``url`` (tracking parameters dropped, made safe
    by ``delivery.links.link_url``); an empty ``url`` shows the outlet alone."""

    outlet: str
    url: str = ""


@dataclass(frozen=True)
class RenderedAlert:
    """A message ready for one channel kind."""

    subject: str  # one line, no CR/LF
    text: str  # plain text
    html: str  # HTML (Telegram-safe subset for telegram, full for email)


# --------------------------------------------------------------------------
# channel kinds: the one registry read by rendering, sending, config checks and docs
# --------------------------------------------------------------------------


class ChannelKind(StrEnum):
    """How a channel's alerts are rendered and handed to apprise.

    A channel's kind follows from the schemes of all its URLs (see
    :func:`channel_kind`); :data:`CHANNEL_KINDS` holds what each kind means.
    A ``StrEnum``: members compare equal to their value (``"telegram"``).
    """

    TELEGRAM = "telegram"
    EMAIL = "email"
    OTHER = "other"


@dataclass(frozen=True)
class ChannelKindSpec:
    """One row of :data:`CHANNEL_KINDS`.

    ``schemes`` -- apprise URL schemes (lower case) of this kind; a channel is
    of this kind when every URL has one of them (empty: the fallback kind).
    ``example`` -- an example URL (docs, config errors).
    ``telegram_html`` -- ``RenderedAlert.html`` uses Telegram's HTML subset (the
    Telegram layout, split at 4096 UTF-16 units, template ``telegram.html.j2``);
    else the full email layout (template ``email.html.j2``).
    ``sends_html`` -- apprise gets ``html`` as HTML; else ``text`` as text.
    ``sends_title`` -- apprise gets ``subject`` as the title.
    """

    kind: ChannelKind
    schemes: frozenset[str]
    example: str
    telegram_html: bool
    sends_html: bool
    sends_title: bool

    @property
    def html_template(self) -> str:
        """File name of the user template replacing the built-in ``html``."""
        return "telegram.html.j2" if self.telegram_html else "email.html.j2"


CHANNEL_KINDS: dict[ChannelKind, ChannelKindSpec] = {
    ChannelKind.TELEGRAM: ChannelKindSpec(
        ChannelKind.TELEGRAM,
        frozenset({"tgram"}),
        "tgram://TOKEN/CHAT",
        telegram_html=True,
        sends_html=True,
        sends_title=False,  # our html already holds the header (apprise would add "<b>title</b>")
    ),
    ChannelKind.EMAIL: ChannelKindSpec(
        ChannelKind.EMAIL,
        frozenset({"mailto", "mailtos"}),
        "mailtos://USER:PASSWORD@HOST?to=ADDRESS",
        telegram_html=False,
        sends_html=True,  # apprise adds a text part it derives from our html
        sends_title=True,
    ),
    ChannelKind.OTHER: ChannelKindSpec(
        ChannelKind.OTHER,
        frozenset(),
        "json://HOST/PATH",
        telegram_html=False,
        sends_html=False,
        sends_title=True,
    ),
}


def url_scheme(url: str) -> str:
    """The lower-case scheme of an apprise URL ("" if it has none)."""
    return url.split("://", 1)[0].strip().lower() if "://" in url else ""


def channel_kind(urls: Iterable[str]) -> ChannelKind:
    """The kind of a channel with these URLs: the kind whose ``schemes`` hold
    every URL's scheme, else ``OTHER`` (also for no URLs)."""
    schemes = {url_scheme(u) for u in urls}
    if not schemes:
        return ChannelKind.OTHER
    for spec in CHANNEL_KINDS.values():
        if spec.schemes and schemes <= spec.schemes:
            return spec.kind
    return ChannelKind.OTHER


@dataclass(frozen=True)
class NewAlert:
    """An alert to put in the outbox with its article (``Store.save_article``, ``Store.mark_dead``).

    ``per`` is "article" (one alert per copy group) or "story" (one per story: needs the
    article's story placement). ``hold_until`` (aware UTC) holds it for a digest whose
    kind ``digest`` names ("hourly", "daily", "quiet"). ``follow_up`` is the (subject,
    text, html) sent instead of nothing when a non-copy article joins a story whose
    alert was already sent (as a reply to it; see ``storage.stories.follow_up_of``).
    """

    topic_id: str
    channel: str
    subject: str
    text: str
    html: str
    hold_until: datetime | None = None
    digest: str | None = None
    per: str = "article"
    follow_up: tuple[str, str, str] | None = None
