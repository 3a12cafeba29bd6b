"""Feed autodiscovery: a site's home page -> its feed URLs, pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from monitor.fetch.encoding import decode_html

_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/rdf+xml": "rdf",
    "application/feed+json": "json",
    "application/json": "json",
}
_FEEDISH = re.compile(r"(?:^|[/._-])(?:rss|feeds?|atom)(?:$|[/._?-])|\.(?:rss|xml)$", re.I)
_PARSER = lxml.html.HTMLParser(remove_comments=True, huge_tree=False)


@dataclass(frozen=True)
class FoundFeed:
    url: str
    title: str
    type: str  # rss, atom, rdf, json, or "link" (an <a> that looks like a feed)


def discover_feeds(content: bytes | str, base_url: str, content_type: str = "") -> list[FoundFeed]:
    """<link rel=alternate> feeds first, then <a> links whose URL looks like a feed."""
    text = decode_html(content, content_type) if isinstance(content, bytes) else content
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return []
    base = next(iter(root.xpath("//base/@href")), None) or base_url
    found: dict[str, FoundFeed] = {}
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = _TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        href = link.get("href")
        if "alternate" in rels and kind and href:
            url = urljoin(base, href.strip())
            found.setdefault(url, FoundFeed(url, " ".join((link.get("title") or "").split()), kind))
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if href and _FEEDISH.search(href.split("#")[0]):
            url = urljoin(base, href)
            if url.lower().startswith(("http://", "https://")):
                found.setdefault(url, FoundFeed(url, " ".join(a.text_content().split()), "link"))
    return list(found.values())
