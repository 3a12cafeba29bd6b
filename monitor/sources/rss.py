"""RSS/Atom bytes -> FeedItems (feedparser), pure."""
from __future__ import annotations

import calendar
import html
import re
from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser

from ..errors import FeedParseError
from ..models import FeedItem

_TAG = re.compile(r"<[^>]+>")


def html_to_text(fragment: str) -> str:
    """Feed summaries are HTML fragments: strip tags, unescape, collapse spaces."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment or "")).split())


def _date(entry: feedparser.FeedParserDict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    except (OverflowError, ValueError):
        return None


def parse_feed(feed_name: str, content: bytes, base_url: str) -> list[FeedItem]:
    """Parse RSS/Atom bytes; raise FeedParseError if it is not a feed at all."""
    # Sanitising costs most of feedparser's time and we escape everything at output.
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        cause = parsed.get("bozo_exception")
        detail = f": {type(cause).__name__}: {cause}" if cause else ""
        raise FeedParseError(f"feed {feed_name} ({base_url}) is not an RSS/Atom feed{detail}")
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if link:
            link = urljoin(base_url, link.strip())
        guid = (entry.get("id") or "").strip()
        title = html_to_text(entry.get("title", ""))
        if not link and not guid:
            continue
        items.append(FeedItem(feed=feed_name, url=link, guid=guid, title=title,
                              summary=html_to_text(entry.get("summary", "")),
                              published=_date(entry)))
    return items
