"""Source kinds: each turns fetched bytes into FeedItems (pure).

`rss` (RSS/Atom via feedparser), `page` (a section page: links picked by CSS
selector or RE2 pattern), `sitemap` (a news sitemap). `parse_source` picks by kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.fetch.budget import Budget
from monitor.models import FeedItem


@dataclass(frozen=True)
class SourceResult:
    """Items of one fetch, the source's own polling hint and what looked wrong."""

    items: tuple[FeedItem, ...]
    ttl: float | None = None  # seconds the source asks us to wait (RSS <ttl>)
    warnings: tuple[str, ...] = field(default_factory=tuple)


def parse_source(
    kind: str,
    name: str,
    content: bytes,
    url: str,
    content_type: str = "",
    *,
    links: str | None = None,
    link_pattern: str | None = None,
    budget: Budget | None = None,
) -> SourceResult:
    """Dispatch on the configured kind; raises FeedParseError (BudgetError when the source
    goes over `budget`, default Budget()) or MojibakeError for pages."""
    if kind == "page":
        from monitor.sources.page import compile_link_rules, parse_page

        return parse_page(name, content, url, compile_link_rules(links, link_pattern), content_type)
    if kind == "sitemap":
        from monitor.sources.sitemap import parse_sitemap

        return parse_sitemap(name, content, url, content_type, budget=budget)
    from monitor.sources.rss import parse_feed_result

    return parse_feed_result(name, content, url, content_type, budget=budget)
