"""News sitemap (sitemap.xml with news: entries) -> FeedItems, pure.

A sitemap served as a raw .gz body is inflated here under the same byte budget as
any response (fetch.max_bytes, counted over every gzip member); entries past
fetch.max_items are dropped with a warning.
"""

from __future__ import annotations

import zlib
from datetime import datetime

from lxml import etree

from monitor.errors import BudgetError, FeedParseError
from monitor.fetch.budget import Budget
from monitor.models import FeedItem, SourceResult, plausible_date
from monitor.sources.xmlsafe import local, parse_xml_lenient

_STEP = 64 * 1024


def gunzip(content: bytes, what: str, limit: int) -> bytes:
    """Inflate every gzip member of `content` in bounded steps; BudgetError past `limit` bytes."""
    out: list[bytes] = []
    size = 0
    data = content
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while True:
                piece = d.decompress(data, _STEP)
                size += len(piece)
                if size > limit:
                    raise BudgetError(f"{what} unzips to more than {limit} bytes (budget fetch.max_bytes)")
                out.append(piece)
                data = d.unconsumed_tail
                if d.eof or (not data and len(piece) < _STEP):
                    break
        except zlib.error as exc:
            if out:  # a later member is corrupt: keep the members before it
                break
            raise FeedParseError(f"{what}: corrupt gzip: {exc}") from None
        if not d.eof:  # truncated: keep what inflated (as before)
            break
        data = d.unused_data
        if data[:2] != b"\x1f\x8b":  # padding or junk after the last member: what inflated stands
            break
    return b"".join(out)


def _text(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _fields(entry: etree._Element) -> dict[str, str]:
    """An entry's fields by position, not by local name anywhere below it: ``loc`` and
    ``lastmod`` are direct children of ``<url>`` in its own namespace (so ``image:loc``,
    ``video:title`` and ``xhtml:link`` are not taken), ``title`` and ``publication_date``
    direct children of ``<news:news>``. The first non-empty one of each wins."""
    fields: dict[str, str] = {}
    core = etree.QName(entry).namespace
    for child in entry:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child)
        if name.namespace == core and name.localname in ("loc", "lastmod"):
            if name.localname not in fields and _text(child):
                fields[name.localname] = _text(child)
        elif (
            name.localname == "news"
            and name.namespace != core
            or (name.localname == "news" and "news" in (name.namespace or ""))
        ):
            for item in child:
                if isinstance(item.tag, str) and local(item.tag) in ("title", "publication_date"):
                    key = local(item.tag)
                    if key not in fields and _text(item):
                        fields[key] = _text(item)
    return fields


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return plausible_date(when)


def parse_sitemap(
    name: str, content: bytes, url: str, content_type: str = "", *, budget: Budget | None = None
) -> SourceResult:
    """Each <url>: <loc>, news:title, news:publication_date (else lastmod).

    Read leniently (see `parse_xml_lenient`): a BOM or blank lines before ``<?xml``, a raw
    ``&`` in ``<loc>``, HTML entities or a cut-off file give warnings, not a failed source.
    FeedParseError if it is not a news sitemap; BudgetError if a .gz body inflates past
    budget.max_bytes. At most budget.max_items entries are read (warning beyond)."""
    budget = budget or Budget()
    what = f"sitemap {name} ({url})"
    for _layer in range(2):  # a .gz body, sometimes gzipped once more by the server
        if content[:2] == b"\x1f\x8b":
            content = gunzip(content, what, budget.max_bytes)
    root, read_warnings = parse_xml_lenient(content, what, content_type)
    if local(root.tag) == "sitemapindex":
        subs = [" ".join((e.text or "").split()) for e in root.iter() if local(e.tag) == "loc"][:5]
        raise FeedParseError(f"{what} is a sitemap index; configure one of its news sitemaps: " + ", ".join(subs))
    if local(root.tag) != "urlset":
        raise FeedParseError(f"{what} is not a sitemap (root element <{local(root.tag)}>)")
    items: list[FeedItem] = []
    warnings: list[str] = list(read_warnings)
    entries = 0
    for entry in root:
        if local(entry.tag) != "url":
            continue
        entries += 1
        if entries > budget.max_items:
            continue
        fields = _fields(entry)
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
    if entries > budget.max_items:
        warnings.append(
            f"sitemap has {entries} entries; the first {budget.max_items} were read (budget fetch.max_items)"
        )
    if not items and len(root):
        warnings.append("sitemap has no <url> entries with an http(s) <loc>")
    return SourceResult(tuple(items), None, tuple(warnings))
