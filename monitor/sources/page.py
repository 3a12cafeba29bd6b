"""A news section page without a feed -> FeedItems (its article links), pure.

Links are chosen by a CSS selector (lxml cssselect) and/or a URL pattern. The
pattern is compiled with RE2, whose matching time is linear in the URL length
whatever the pattern, so a user's pattern can never hang a worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urldefrag, urljoin

import lxml.html
import re2
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from monitor.dedup.keys import normalize_url
from monitor.errors import BudgetError, ExtractError, FeedParseError
from monitor.extract.htmlcheck import check_page
from monitor.fetch.budget import Budget
from monitor.fetch.encoding import decode_html
from monitor.models import FeedItem, SourceResult

_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=False)


class UrlPattern(Protocol):
    """What parse_page needs of a compiled link pattern (an RE2 regexp): search a URL."""

    def search(self, text: str, /) -> object | None: ...


@dataclass(frozen=True)
class LinkRules:
    selector: CSSSelector | None
    pattern: UrlPattern | None  # an re2 pattern


def compile_link_rules(selector: str | None, pattern: str | None) -> LinkRules:
    """Compile once; ValueError naming the problem (used by config validation)."""
    css: CSSSelector | None = None
    rx: UrlPattern | None = None
    if selector:
        try:
            css = CSSSelector(selector)
        except (SelectorError, etree.XPathError) as exc:
            raise ValueError(f"`links` is not a valid CSS selector: {exc}") from None
    if pattern:
        try:
            rx = re2.compile(pattern)
        except re2.error as exc:
            raise ValueError(
                f"`link_pattern` is not a valid RE2 pattern (no backreferences or lookarounds): {exc}"
            ) from None
    return LinkRules(css, rx)


def _anchors(root: lxml.html.HtmlElement, rules: LinkRules) -> Iterator[lxml.html.HtmlElement]:
    if rules.selector is None:
        yield from root.iter("a")
        return
    for el in rules.selector(root):
        if el.tag == "a":
            yield el
        else:  # a selected card or headline: its links
            yield from el.iter("a")


def parse_page(
    name: str, content: bytes | str, url: str, rules: LinkRules, content_type: str = "", budget: Budget | None = None
) -> SourceResult:
    """Article links of a section page, in page order, each once. The page is held to the
    source's budget like an article page (characters, elements, nesting: cut with a warning,
    BudgetError when too deep) and at most `budget.max_items` links are read (warning beyond)."""
    budget = budget or Budget()
    text = decode_html(content, content_type) if isinstance(content, bytes) else content
    try:
        checked = check_page(text, url, budget)
    except ExtractError as exc:
        raise BudgetError(f"page source {name}: {exc}") from None
    text = checked.text
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise FeedParseError(f"page source {name} ({url}) is not parseable HTML: {exc}") from None
    base = next(iter(root.xpath("//base/@href")), None) or url
    page_key = normalize_url(url)
    items: list[FeedItem] = []
    seen: set[str] = set()
    for a in _anchors(root, rules):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        link = urldefrag(urljoin(base, href))[0]
        if not link.lower().startswith(("http://", "https://")):
            continue
        if rules.pattern is not None and not rules.pattern.search(link):
            continue
        key = normalize_url(link)
        if key in seen or key == page_key:
            continue
        seen.add(key)
        if len(items) == budget.max_items:
            cut = f"the page lists more than {budget.max_items} links; the first were read (budget fetch.max_items)"
            break
        title = " ".join((a.text_content() or a.get("title") or "").split())
        items.append(FeedItem(feed=name, url=link, guid="", title=title, summary=""))
    else:
        cut = ""
    warnings = tuple(w for w in (checked.warning, cut) if w) + (() if items else (f"no links matched on {url}",))
    return SourceResult(tuple(items), None, warnings)
