"""RSS/Atom bytes -> FeedItems (feedparser), pure.

The bytes are decoded by us (monitor.fetch.encoding.decode_xml: BOM, valid UTF-8,
declared charsets, Arabic code pages, mojibake repaired) and feedparser gets UTF-8
bytes labelled UTF-8, so a lying HTTP charset cannot mis-decode them. Those bytes are
checked first in one linear pass (monitor.fetch.scan): nesting past the budget is an
error; every DOCTYPE is cut off (feedparser keeps "safe" internal entities only when
they sit on their own line, so we do not rely on it); items past the budget and
markup that never ends are cut, with a warning. Sanitising is off because we
escape everything at output (see bench/feedparser_sanitize.py for the saving).
feedparser has already unescaped every field once: markup is stripped only from
fields feedparser types as HTML, by an HTML parser (see `feed_text`), so
"<<quoted>>", "< 5%" and "<word>" in plain-text titles stay as written.
Lying feeds are survived and reported as warnings: duplicate GUIDs, items
without link or date, dates in the far future or past, mis-decoded text.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
import lxml.html
from lxml import etree

from monitor.errors import ExtractError, FeedParseError
from monitor.extract.teasers import drop_teasers
from monitor.fetch.budget import Budget
from monitor.fetch.encoding import decode_xml, looks_mojibake, xml_bytes_utf8
from monitor.fetch.scan import PreparedFeed, prepare_feed
from monitor.models import EARLIEST, FUTURE_SLACK, FeedItem, SourceResult

_HTML = re.compile(rb"<html[\s>]|<!DOCTYPE\s+html", re.I)  # only ever run on the first 4 KB
MAX_DEPTH = Budget.max_depth  # libxml2's own default; real feeds nest under 20


_HTML_TYPES = ("text/html", "application/xhtml+xml")
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "td", "section")


def html_to_text(fragment: str, base_url: str | None = None) -> str:
    """An HTML fragment (already unescaped by feedparser) -> plain text on one line.

    Parsed by libxml2's HTML parser, which keeps a ``<`` not followed by a tag name
    ("< 57$", "<<…>>", "<برنت>"); scripts, styles and same-site teaser boxes go;
    block elements are separated by a space. Entities are decoded once, by the parser.
    """
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(fragment.split())
    for el in list(root.iter("script", "style")):
        el.drop_tree()
    drop_teasers(root, base_url)
    for el in root.iter(*_BLOCK_TAGS):
        el.tail = " " + (el.tail or "")
    return " ".join(root.text_content().split())


_MARKUP = re.compile(r"<(?:[A-Za-z][A-Za-z0-9]*[\s/>]|/[A-Za-z]|!--)")


def feed_text(detail: object, fallback: str = "", base_url: str | None = None, *, declared: bool = True) -> str:
    """A feedparser text construct (``title_detail``, ``summary_detail``, ``content[0]``) -> text.

    Markup is stripped only when feedparser says the field is HTML or XHTML; plain text
    is kept as written (spaces collapsed). Without a detail, `fallback` is taken as HTML.

    Character references are decoded exactly once. The XML parser has already decoded
    the feed's own escaping; an HTML field is decoded again only as part of reading real
    markup. When the HTML type is feedparser's guess (`declared` False: RSS and RDF, which
    do not say what their text is) and the value holds no markup at all, it is text that
    was escaped twice (``&amp;quot;`` in the XML) and is kept as written (``&quot;``).
    Atom's explicit ``type="html"`` (`declared` True) is always read as HTML.
    """
    if isinstance(detail, dict):
        value = str(detail.get("value") or "")
        if str(detail.get("type") or "").lower() in _HTML_TYPES:
            if not declared and not _MARKUP.search(value):
                return " ".join(value.split())
            return html_to_text(value, base_url)
        return " ".join(value.split())
    return html_to_text(fallback, base_url)


def _date(entry: feedparser.FeedParserDict) -> datetime | None:
    # dict.get: feedparser's own get() maps one key to the other and warns about it
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


MAX_WINDOWS = 10  # a feed over fetch.max_items items is parsed in at most this many windows of it


def _feedparse(prepared: PreparedFeed) -> feedparser.FeedParserDict:
    headers = {"content-type": prepared.content_type} if prepared.content_type else {}
    return feedparser.parse(
        fix_charrefs(prepared.content), sanitize_html=False, resolve_relative_uris=False, response_headers=headers
    )


def _later_windows(
    data: bytes, first: PreparedFeed, budget: Budget
) -> tuple[list[feedparser.FeedParserDict], list[str]]:
    """Entries past the first `budget.max_items` of a long feed, and the warnings to give
    instead of the first window's. A feed that appends new entries at its END and is never
    trimmed (miniflux/v2#679: 800+ entries; a 6,066-entry Atom feed) would lose every new
    entry to a cut at the first max_items: the rest is read too, window by window (the
    channel header plus the next max_items items each, cut where the one scan of the whole
    document said: `XmlScan.cuts`), up to MAX_WINDOWS windows, so the work stays bounded
    (fetch.max_bytes, MAX_WINDOWS x max_items items); only past that is anything cut,
    with a warning. A document with a DOCTYPE is not windowed (its first window only)."""
    scan = first.scan
    if scan.cut is None or scan.items <= budget.max_items or scan.first_item is None or scan.doctypes:
        return [], []
    head, closers = data[: scan.first_item], "".join(scan.closers).encode()
    bounds: list[int | None] = [*scan.cuts[:MAX_WINDOWS], None]  # window k+1 is bounds[k] .. bounds[k+1]
    entries: list[feedparser.FeedParserDict] = []
    windows = 1
    for start, stop in zip(bounds[: MAX_WINDOWS - 1], bounds[1:MAX_WINDOWS], strict=False):
        if start is None or len(entries) + budget.max_items >= scan.items:
            break
        body = data[start:stop] + closers if stop is not None else data[start:]
        window = PreparedFeed(head + body, first.content_type, scan, ())
        try:
            entries += list(_feedparse(window).entries)
        except Exception:  # a broken later window: what was read stays read
            break
        windows += 1
    read = len(entries) + budget.max_items
    if read < scan.items:
        cut = f"feed has {scan.items} items; the first {read} were read (budget fetch.max_items x {MAX_WINDOWS})"
        return entries, [cut]
    return entries, [f"feed has {scan.items} items, read in {windows} windows of fetch.max_items"]


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
    text, decoded = decode_xml(content, content_type)
    # Never hand feedparser a str (it may open it as a URL or file): UTF-8 bytes, labelled so.
    data = xml_bytes_utf8(text)
    what = f"feed {feed_name} ({base_url})"
    prepared = prepare_feed(
        data, "application/xml; charset=utf-8", what=what, max_depth=budget.max_depth, max_items=budget.max_items
    )
    try:
        parsed = _feedparse(prepared)
    except Exception as exc:  # feedparser raises on some input instead of setting bozo (#590, #599)
        raise FeedParseError(f"feed {feed_name} ({base_url}) cannot be parsed: {type(exc).__name__}: {exc}") from exc
    entries, windows = _later_windows(data, prepared, budget)
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
    declared = str(parsed.get("version") or "").startswith("atom")  # Atom says which text is HTML
    items: list[FeedItem] = []
    guids: set[str] = set()
    dup = nolink = nodate = absurd = dropped = 0
    for entry in list(parsed.entries) + entries:
        link = (entry.get("link") or "").strip()
        if link:
            link = urljoin(base_url, link)
            if not link.lower().startswith(("http://", "https://")):
                link = ""
        guid = (entry.get("id") or "").strip()
        title = feed_text(entry.get("title_detail"), entry.get("title", ""), base_url, declared=declared)
        contents = entry.get("content") or [None]
        summary = feed_text(
            entry.get("summary_detail") or contents[0], entry.get("summary", ""), base_url, declared=declared
        )
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
    warnings = list(decoded) + list(windows or prepared.warnings)
    for n, what in (
        (dup, "items share a GUID"),
        (nolink, "items have no link"),
        (dropped, "items have no link, GUID, title or text and were skipped"),
        (nodate, "items have no date"),
        (absurd, "items have impossible dates (ignored)"),
    ):
        if n:
            warnings.append(f"{n} {what}")
    already = any("mis-decoded" in w for w in warnings)
    if not already and any(looks_mojibake(i.title + " " + i.summary) for i in items[:20]):
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
