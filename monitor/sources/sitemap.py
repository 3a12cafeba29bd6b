"""News sitemap (sitemap.xml with news: entries) -> FeedItems, pure."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from monitor.errors import FeedParseError
from monitor.models import FeedItem, SourceResult
from monitor.sources.xmlsafe import local, parse_xml

MAX_UNZIPPED = 50 * 1024 * 1024  # the sitemap protocol's own limit


def _gunzip(content: bytes, what: str) -> bytes:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(content, MAX_UNZIPPED)
    except zlib.error as exc:
        raise FeedParseError(f"{what}: corrupt gzip: {exc}") from None
    if d.unconsumed_tail:
        raise FeedParseError(f"{what}: unzips to more than {MAX_UNZIPPED} bytes")
    return out


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_sitemap(name: str, content: bytes, url: str) -> SourceResult:
    """Each <url>: <loc>, news:title, news:publication_date (else lastmod)."""
    what = f"sitemap {name} ({url})"
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content, what)
    root = parse_xml(content, what)
    if local(root.tag) == "sitemapindex":
        subs = [" ".join((e.text or "").split()) for e in root.iter() if local(e.tag) == "loc"][:5]
        raise FeedParseError(f"{what} is a sitemap index; configure one of its news sitemaps: " + ", ".join(subs))
    if local(root.tag) != "urlset":
        raise FeedParseError(f"{what} is not a sitemap (root element <{local(root.tag)}>)")
    items, warnings = [], []
    for entry in root:
        if local(entry.tag) != "url":
            continue
        fields: dict[str, str] = {}
        for el in entry.iter():
            key = local(el.tag)
            if key and key not in fields and el.text and el.text.strip():
                fields[key] = " ".join(el.text.split())
        loc = fields.get("loc", "")
        if not loc.lower().startswith(("http://", "https://")):
            continue
        items.append(
            FeedItem(
                feed=name,
                url=loc,
                guid="",
                title=fields.get("title", ""),
                summary="",
                published=_date(fields.get("publication_date") or fields.get("lastmod")),
            )
        )
    if not items and len(root):
        warnings.append("sitemap has no <url> entries with an http(s) <loc>")
    return SourceResult(tuple(items), None, tuple(warnings))
