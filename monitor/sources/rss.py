"""RSS/Atom bytes -> FeedItems (feedparser), pure.

feedparser is given the HTTP Content-Type so it can pick the charset; any DOCTYPE
is cut off first (feedparser keeps "safe" internal entities only when they sit
on their own line, so we do not rely on it); sanitising is off because we
escape everything at output (see bench/feedparser_sanitize.py for the saving).
Lying feeds are survived and reported as warnings: duplicate GUIDs, items
without link or date, dates in the far future or past, mis-decoded text.
"""

from __future__ import annotations

import calendar
import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import feedparser

from monitor.errors import ExtractError, FeedParseError
from monitor.fetch.encoding import looks_mojibake
from monitor.models import FeedItem, SourceResult

_TAG = re.compile(r"<[^>]+>")
_ROOT = re.compile(rb"<[A-Za-z]")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_HTML = re.compile(rb"<html[\s>]|<!DOCTYPE\s+html", re.I)
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.S)
_XML_TAG = re.compile(rb"<(/?)[A-Za-z_][^>]*?(/?)>")
MAX_DEPTH = 256  # libxml2's own default; real feeds nest under 20
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)  # before RSS existed
FUTURE_SLACK = timedelta(days=2)  # time zones and clock skew


def html_to_text(fragment: str) -> str:
    """Feed summaries are HTML fragments: strip tags, unescape, collapse spaces."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment or "")).split())


def _date(entry: feedparser.FeedParserDict) -> datetime | None:
    # dict.get: feedparser's own get() maps one key to the other and warns about it
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def strip_doctype(content: bytes) -> bytes:
    """Remove a DOCTYPE (and its internal subset) from the prolog: no entity declarations
    reach the XML parser, so neither external entities nor expansion bombs can."""
    root = _ROOT.search(content)
    head = content[: root.start()] if root else content
    m = _DOCTYPE.search(head)
    if not m:
        return content
    return head[: m.start()] + (content[root.start() :] if root else b"")


def xml_depth(content: bytes) -> int:
    """Deepest element nesting, counted in one linear pass (CDATA and comments skipped)."""
    depth = deepest = 0
    for m in _XML_TAG.finditer(_CDATA.sub(b"", content)):
        if m.group(1):
            depth = max(0, depth - 1)
        elif not m.group(2):
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def parse_feed(feed_name: str, content: bytes, base_url: str) -> list[FeedItem]:
    """Parse RSS/Atom bytes; raise FeedParseError if it is not a feed at all."""
    return list(parse_feed_result(feed_name, content, base_url).items)


def parse_feed_result(
    feed_name: str, content: bytes, base_url: str, content_type: str = "", *, now: datetime | None = None
) -> SourceResult:
    """Items, the feed's <ttl> and warnings; FeedParseError if it is not a feed."""
    depth = xml_depth(content)
    if depth > MAX_DEPTH:
        raise FeedParseError(f"feed {feed_name} ({base_url}) nests {depth} levels deep (limit {MAX_DEPTH})")
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(
        strip_doctype(content), sanitize_html=False, resolve_relative_uris=False, response_headers=headers
    )
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        if _HTML.search(content[:4096]) or "html" in content_type.lower():
            raise FeedParseError(
                f"feed {feed_name} ({base_url}) served an HTML page, not a feed "
                f"(a login, error or consent page?){_announced(content, base_url, content_type)}"
            )
        cause = parsed.get("bozo_exception")
        detail = f": {type(cause).__name__}: {cause}" if cause else ""
        raise FeedParseError(f"feed {feed_name} ({base_url}) is not an RSS/Atom feed{detail}")
    now = now or datetime.now(UTC)
    items: list[FeedItem] = []
    guids: set[str] = set()
    dup = nolink = nodate = absurd = dropped = 0
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if link:
            link = urljoin(base_url, link)
            if not link.lower().startswith(("http://", "https://")):
                link = ""
        guid = (entry.get("id") or "").strip()
        title = html_to_text(entry.get("title", ""))
        summary = html_to_text(entry.get("summary", ""))
        if guid and guid in guids:
            dup += 1
            guid = ""  # the same GUID on two items identifies neither: fall back to the link
        guids.add(guid)
        if not link:
            nolink += 1
            if not guid and not (title or summary):
                dropped += 1
                continue
        published = _date(entry)
        if published is None:
            nodate += 1
        elif published < EARLIEST or published > now + FUTURE_SLACK:
            absurd += 1
            published = None
        items.append(FeedItem(feed=feed_name, url=link, guid=guid, title=title, summary=summary, published=published))
    warnings = []
    for n, what in (
        (dup, "items share a GUID"),
        (nolink, "items have no link"),
        (dropped, "items have no link, GUID, title or text and were skipped"),
        (nodate, "items have no date"),
        (absurd, "items have impossible dates (ignored)"),
    ):
        if n:
            warnings.append(f"{n} {what}")
    if any(looks_mojibake(i.title + " " + i.summary) for i in items[:20]):
        warnings.append("feed text looks mis-decoded (wrong charset declared?)")
    return SourceResult(tuple(items), _ttl(parsed), tuple(warnings))


def _announced(content: bytes, base_url: str, content_type: str) -> str:
    """A hint naming the feeds an HTML page announces (the feed may have moved)."""
    from monitor.sources.discover import discover_feeds

    try:
        found = [f.url for f in discover_feeds(content, base_url, content_type) if f.type != "link"]
    except ExtractError:
        return ""
    return f"; the page announces feeds: {', '.join(found[:3])}" if found else ""


def _ttl(parsed: feedparser.FeedParserDict) -> float | None:
    """RSS <ttl> is minutes."""
    value = str(parsed.feed.get("ttl") or "").strip()
    return float(value) * 60 if value.isdigit() and int(value) > 0 else None
