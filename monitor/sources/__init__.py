"""Source kinds: each turns fetched bytes into FeedItems (pure).

`KINDS` is the one registry of source kinds: `parse_source` dispatches on it,
config validation (monitor.config.schema) accepts exactly its names, OPML import
maps outline types onto it, and the README's config reference names every one
(tests/acceptance/test_readme.py checks that). A new kind is one entry here.

Each kind's reader module (and its parser library: feedparser, lxml, cssselect, RE2) is
imported when a body of that kind is first read, not with this registry: the config and
a pass whose every feed answers 304 need the names only (issue 16; a process imports each
once, tests/unit/test_startup_cost.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.fetch.budget import Budget
from monitor.models import SourceResult

if TYPE_CHECKING:
    from monitor.sources.page import LinkRules

# (feed name, body bytes, final URL, Content-Type header, the feed's compiled link rules, the source's budget)
# -> items
Parser = Callable[[str, bytes, str, str, "LinkRules | None", Budget], SourceResult]


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: how its bytes are read and what config it takes."""

    parse: Parser  # raises FeedParseError (BudgetError over budget; MojibakeError for undecodable pages)
    summary: str  # what it reads, for docs and messages
    takes_links: bool = False  # needs `links` and/or `link_pattern` (compiled LinkRules), refuses them otherwise


def _rss(
    name: str, content: bytes, url: str, content_type: str, rules: LinkRules | None, budget: Budget
) -> SourceResult:
    from monitor.sources.rss import parse_feed_result

    return parse_feed_result(name, content, url, content_type, budget=budget)


def _page(
    name: str, content: bytes, url: str, content_type: str, rules: LinkRules | None, budget: Budget
) -> SourceResult:
    if rules is None:
        raise ValueError(f"page source {name}: no link rules (config validation gives every page source some)")
    from monitor.sources.page import parse_page

    return parse_page(name, content, url, rules, content_type, budget)


def _sitemap(
    name: str, content: bytes, url: str, content_type: str, rules: LinkRules | None, budget: Budget
) -> SourceResult:
    from monitor.sources.sitemap import parse_sitemap

    return parse_sitemap(name, content, url, content_type, budget=budget)


KINDS: dict[str, SourceKind] = {
    "rss": SourceKind(_rss, "RSS 2.0/1.0 or Atom feed"),
    "page": SourceKind(_page, "a news section page: article links picked by CSS selector and/or RE2 pattern", True),
    "sitemap": SourceKind(_sitemap, "a news sitemap (sitemap.xml with news: entries, gzip allowed)"),
}
DEFAULT_KIND = "rss"


def parse_source(
    kind: str,
    name: str,
    content: bytes,
    url: str,
    content_type: str = "",
    *,
    rules: LinkRules | None = None,
    budget: Budget | None = None,
) -> SourceResult:
    """Dispatch on the configured kind (a key of KINDS; ValueError for another).

    `rules` are the feed's compiled link rules (`Feed.link_rules`), needed by kinds
    that take links; `budget` bounds the work (default Budget()). Raises
    FeedParseError (BudgetError over budget, MojibakeError for pages).
    """
    try:
        source = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown source kind {kind!r} (kinds: {', '.join(KINDS)})") from None
    return source.parse(name, content, url, content_type, rules, budget or Budget())
