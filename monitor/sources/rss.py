"""RSS/Atom bytes -> FeedItems (feedparser), pure.

feedparser is given the HTTP Content-Type so it can pick the charset. The bytes
are checked first in one linear pass (monitor.fetch.scan, any encoding): nesting
past the budget is an error; every DOCTYPE is cut off (feedparser keeps "safe"
internal entities only when they sit on their own line, so we do not rely on it);
items past the budget and markup that never ends are cut, with a warning. Sanitising is off because we
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
from monitor.fetch.budget import Budget
from monitor.fetch.encoding import looks_mojibake
from monitor.fetch.scan import prepare_feed, strip_tags
from monitor.models import FeedItem
from monitor.sources import SourceResult

_HTML = re.compile(rb"<html[\s>]|<!DOCTYPE\s+html", re.I)  # only ever run on the first 4 KB
MAX_DEPTH = Budget.max_depth  # libxml2's own default; real feeds nest under 20
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)  # before RSS existed
FUTURE_SLACK = timedelta(days=2)  # time zones and clock skew


def html_to_text(fragment: str) -> str:
    """Feed summaries are HTML fragments: strip tags, unescape, collapse spaces (linear time)."""
    return " ".join(html.unescape(strip_tags(fragment or "")).split())


def _date(entry: feedparser.FeedParserDict) -> datetime | None:
    # dict.get: feedparser's own get() maps one key to the other and warns about it
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
_CHARREF_PAIR = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")


def _ref_value(hexa: bytes | None, dec: bytes | None) -> int:
    return int(hexa, 16) if hexa else int(dec or b"0")


def fix_charrefs(content: bytes) -> bytes:
    """Numeric character references no parser should have to choke on, made safe: a UTF-16
    surrogate pair written as two references (``&#55357;&#56596;``) becomes the one character
    it encodes; a lone surrogate, NUL or a value past U+10FFFF becomes U+FFFD. (feedparser
    raises UnicodeEncodeError/ValueError/OverflowError on them: feedparser #590, #599.)"""
    if b"&#" not in content:
        return content

    def pair(m: re.Match[bytes]) -> bytes:
        hi, lo = _ref_value(m[1], m[2]), _ref_value(m[3], m[4])
        if 0xD800 <= hi <= 0xDBFF and 0xDC00 <= lo <= 0xDFFF:
            return b"&#x%X;" % (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
        return m[0]

    def single(m: re.Match[bytes]) -> bytes:
        value = _ref_value(m[1], m[2])
        if value == 0 or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            return b"&#xFFFD;"
        return m[0]

    return _CHARREF.sub(single, _CHARREF_PAIR.sub(pair, content))


def parse_feed(feed_name: str, content: bytes, base_url: str) -> list[FeedItem]:
    """Parse RSS/Atom bytes; raise FeedParseError if it is not a feed at all."""
    return list(parse_feed_result(feed_name, content, base_url).items)


def parse_feed_result(
    feed_name: str,
    content: bytes,
    base_url: str,
    content_type: str = "",
    *,
    now: datetime | None = None,
    budget: Budget | None = None,
) -> SourceResult:
    """Items, the feed's <ttl> and warnings; FeedParseError if it is not a feed,
    BudgetError (a FeedParseError) if it nests deeper than the budget allows."""
    budget = budget or Budget()
    prepared = prepare_feed(
        content,
        content_type,
        what=f"feed {feed_name} ({base_url})",
        max_depth=budget.max_depth,
        max_items=budget.max_items,
    )
    headers = {"content-type": prepared.content_type} if prepared.content_type else {}
    try:
        parsed = feedparser.parse(
            fix_charrefs(prepared.content),
            sanitize_html=False,
            resolve_relative_uris=False,
            response_headers=headers,
        )
    except Exception as exc:  # feedparser raises on some input instead of setting bozo (#590, #599)
        raise FeedParseError(f"feed {feed_name} ({base_url}) cannot be parsed: {type(exc).__name__}: {exc}") from exc
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        if prepared.scan.root.lower() == "html" or _HTML.search(content[:4096]) or "html" in content_type.lower():
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
    warnings = list(prepared.warnings)
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
