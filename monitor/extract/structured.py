"""Article text kept only in a page's structured data (pure, no network, no JavaScript run).

App-shell pages send an empty ``<div id="root">`` and put the story in data the
browser's script renders: schema.org JSON-LD (``articleBody``), framework hydration
data (``<script id="__NEXT_DATA__">``, ``window.__NUXT__ = {...}``,
``window.__INITIAL_STATE__ = {...}``), or a ``<noscript>`` copy for crawlers. The
extractor asks here only when the visible HTML has no prose of its own.

Never taken as a body: ``description``/``summary`` (a teaser), text shorter than a
prose paragraph. JSON that does not parse, or nests too deep, counts as no data.
Nuxt's function form (``window.__NUXT__=(function(a,b){...})``) is not evaluated.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from monitor.models import plausible_date

__all__ = ["StructuredArticle", "noscript_html", "structured_article"]

PROSE = 100  # a paragraph this long is article prose
MAX_DEPTH = 64  # hydration data is walked this deep at most
MAX_NODES = 20_000  # ... and through this many values
_ARTICLE_TYPES = ("Article", "NewsArticle", "ReportageNewsArticle", "BlogPosting", "AnalysisNewsArticle")
_ARTICLE_TYPES_LOWER = frozenset(t.lower() for t in _ARTICLE_TYPES) | {
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "report",
}
_BODY_KEYS = ("articleBody", "body", "content", "text", "html", "bodyHtml", "content_html")
_TITLE_KEYS = ("headline", "title", "name")
_DATE_KEYS = ("datePublished", "publishedAt", "published_at", "publishDate", "date", "createdAt")
_STATE = re.compile(r"(?:window\.)?__(?:NUXT|INITIAL_STATE|PRELOADED_STATE|APOLLO_STATE)__\s*=\s*", re.S)
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "tr")
_ESCAPED_TAG = re.compile(r"&lt;/?(?:p|div|br|span|h[1-6]|li|strong|em|b|a)\b", re.I)
_HTML_TAG = re.compile(r"<(?:p|div|br|span|h[1-6]|li|strong|em|b|a)\b", re.I)


@dataclass(frozen=True)
class StructuredArticle:
    """An article body found in structured data.

    ``paragraphs`` are plain text; ``published`` is UTC (None if absent, unreadable or
    implausible: models.plausible_date); ``source`` is "jsonld" or "hydration".
    """

    title: str
    paragraphs: tuple[str, ...]
    published: datetime | None
    source: str


def structured_article(root: etree._Element, page_url: str | None = None) -> StructuredArticle | None:
    """The page's own article in its JSON-LD, else in its hydration data; None if neither holds prose.

    `root` is the page as parsed, scripts included (not the cleaned tree); `page_url` is the
    URL the page was fetched from (its ``<link rel=canonical>`` / ``og:url`` count too).
    Only the page's own article is taken, never the longest text found: a JSON-LD node whose
    ``url``/``@id``/``mainEntityOfPage`` names this page wins; otherwise the main article
    node (reached as ``mainEntity``, or the first one not naming another page). In hydration
    data, subtrees under related/sidebar/recommended/cookie... keys are skipped, and a node
    naming this page, then one not inside a list, then one with a title, is preferred.
    Text that reads like a repeated notice rather than prose is refused.
    """
    pages = _page_urls(root, page_url)
    return _from_jsonld(root, pages) or _from_hydration(root, pages)


def noscript_html(root: etree._Element) -> str | None:
    """The markup inside the page's ``<noscript>`` elements, when it holds prose; else None."""
    parts = []
    for el in root.iter("noscript"):
        inner = (el.text or "") + "".join(etree.tostring(c, encoding="unicode", method="html") for c in el)
        if any(len(p) >= PROSE for p in html_paragraphs(inner)):
            parts.append(inner)
    return "\n".join(parts) or None


def html_paragraphs(value: str) -> list[str]:
    """A body string (plain text with blank lines, or HTML) -> its paragraphs as plain text.

    Character references are decoded exactly once: by the HTML parser for markup, by
    `html.unescape` for plain text; markup published escaped (``&lt;p&gt;``) is unescaped
    once and then read as markup.
    """
    if not _HTML_TAG.search(value):
        if _ESCAPED_TAG.search(value):
            return html_paragraphs(html.unescape(value))
        paras = re.split(r"\n\s*\n|\r\n\s*\r\n", value)
        return [t for t in (" ".join(html.unescape(p).split()) for p in paras) if t]
    try:
        frag = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    for el in list(frag.iter("script", "style")):
        el.drop_tree()
    for el in frag.iter(*_BLOCK_TAGS):
        el.tail = "\n\n" + (el.tail or "")
        if el.tag != "br":
            el.text = "\n\n" + (el.text or "")
    return [t for t in (" ".join(p.split()) for p in re.split(r"\n\s*\n", frag.text_content())) if t]


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


_OPENERS = ("<!--", "<![CDATA[")
_CLOSERS = ("-->", "]]>")


def _wrapper_line(line: str) -> bool:
    """A line that is only a comment/CDATA wrapper (`//`, `<!--`, `-->`, `<![CDATA[`, `]]>`) or blank.
    String operations only: a line of 4,000 tabs costs 4,000 steps, not 4,000 cubed."""
    rest = line.strip()
    rest = rest[2:].strip() if rest.startswith("//") else rest
    return rest in ("", *_OPENERS, *_CLOSERS)


def _strip_wrapper(body: str) -> str:
    """`body` without a leading `<!--`/`<![CDATA[` (after an optional `//`) and a trailing
    `-->`/`]]>` (before an optional `//`), in linear time."""
    head = body[2:].lstrip() if body.startswith("//") else body
    for opener in _OPENERS:
        if head.startswith(opener):
            body = head[len(opener) :].lstrip()
            break
    tail = body.rstrip()
    for closer in _CLOSERS:
        if tail.endswith(closer):
            tail = tail[: -len(closer)].rstrip()
            tail = tail[:-2].rstrip() if tail.endswith("//") else tail
            return tail
    return body


def _loads_lenient(text: str) -> list[Any]:
    """JSON-LD as published: raw newlines/tabs inside strings, ``<!-- -->`` or
    ``//<![CDATA[ ]]>`` wrappers, a trailing ``;``, several objects one after another.
    Each value that parses is returned; a value cut short is dropped."""
    lines = [ln for ln in text.strip().splitlines() if not _wrapper_line(ln)]
    body = _strip_wrapper("\n".join(lines).strip())
    decoder = json.JSONDecoder(strict=False)
    out: list[Any] = []
    pos = 0
    while pos < len(body):
        while pos < len(body) and (body[pos].isspace() or body[pos] in ";,"):
            pos += 1
        if pos >= len(body):
            break
        try:
            value, pos = decoder.raw_decode(body, pos)
        except (ValueError, RecursionError):
            break
        out.append(value)
    return out


def _is_article(node: dict[str, Any]) -> bool:
    kinds = node.get("@type")
    kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
    return any(isinstance(k, str) and k.split("/")[-1].lower() in _ARTICLE_TYPES_LOWER for k in kinds)


def _norm_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    return f"{host}{parts.path.rstrip('/')}?{parts.query}" if host else ""


def _page_urls(root: etree._Element, page_url: str | None) -> frozenset[str]:
    """This page's URLs, normalised: the fetched one, its canonical link and og:url."""
    found = [page_url or ""]
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            found.append(urljoin(page_url or "", link.get("href") or ""))
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() == "og:url":
            found.append(urljoin(page_url or "", meta.get("content") or ""))
    return frozenset(u for u in map(_norm_url, found) if u)


def _node_urls(node: dict[str, Any]) -> set[str]:
    """The URLs a node says it is about (url, @id, mainEntityOfPage), normalised."""
    out: set[str] = set()
    for key in ("url", "@id", "mainEntityOfPage", "canonical_url", "canonicalUrl", "link", "permalink"):
        value = node.get(key)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, dict):
                v = v.get("@id") or v.get("url")
            if isinstance(v, str) and v.lower().startswith(("http://", "https://")):
                u = _norm_url(v)
                if u:
                    out.add(u)
    return out


def _jsonld_nodes(data: Any, main: bool = False, depth: int = 0) -> Iterator[tuple[dict[str, Any], bool]]:
    """(node, reached as a mainEntity) for top-level nodes, @graph members and mainEntity values."""
    if depth > 4:
        return
    if isinstance(data, list):
        for x in data:
            yield from _jsonld_nodes(x, main, depth + 1)
    elif isinstance(data, dict):
        yield data, main
        if isinstance(data.get("@graph"), list):
            yield from _jsonld_nodes(data["@graph"], False, depth + 1)
        if isinstance(data.get("mainEntity"), (dict, list)):
            yield from _jsonld_nodes(data["mainEntity"], True, depth + 1)


def _body_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n\n".join(value)
    return None


def _article_like(paragraphs: list[str]) -> bool:
    """Prose, not a notice repeated or a word list: a paragraph of PROSE chars, varied words."""
    if not any(len(p) >= PROSE for p in paragraphs):
        return False
    words = " ".join(paragraphs).split()
    return len(words) < 40 or len(set(words)) >= 0.25 * len(words)


def _from_jsonld(root: etree._Element, pages: frozenset[str]) -> StructuredArticle | None:
    candidates: list[tuple[tuple[int, int, int], StructuredArticle]] = []
    for script in root.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        for data in _loads_lenient(script.text or ""):
            for node, main in _jsonld_nodes(data):
                body = _body_text(node.get("articleBody"))
                if not _is_article(node) or body is None:
                    continue
                paragraphs = html_paragraphs(body)
                if not _article_like(paragraphs):
                    continue
                urls = _node_urls(node)
                here = bool(urls & pages)
                elsewhere = bool(urls) and bool(pages) and not here
                rank = (int(here), int(not elsewhere), int(main or "mainEntityOfPage" in node))
                found = StructuredArticle(
                    _first_text(node, ("headline", "name")), tuple(paragraphs), _date(node), "jsonld"
                )
                candidates.append((rank, found))
    if not candidates:
        return None
    best = max(rank for rank, _ in candidates)
    return next(found for rank, found in candidates if rank == best)  # first in document order


_NOT_THE_ARTICLE = re.compile(
    r"related|sidebar|recommend|popular|latest|trending|most_?read|more_?(?:news|stories|articles)|"
    r"cookie|consent|privacy|policy|gdpr|comment|footer|header|nav|menu|widget|promo|\bads?\b|teaser",
    re.I,
)


def _hydration_roots(root: etree._Element) -> Iterator[Any]:
    for script in root.iter("script"):
        text = script.text or ""
        if script.get("id") == "__NEXT_DATA__":
            data = _loads(text)
            page_props = data.get("props", {}).get("pageProps") if isinstance(data, dict) else None
            yield page_props if isinstance(page_props, (dict, list)) else data  # the page's own props
            continue
        m = _STATE.search(text)
        if m is None:
            continue
        start = m.end()
        if text[start : start + 1] not in ("{", "["):
            continue  # a function or expression: not evaluated
        try:
            value, _end = json.JSONDecoder(strict=False).raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        yield value


def _from_hydration(root: etree._Element, pages: frozenset[str]) -> StructuredArticle | None:
    best: tuple[tuple[int, int, int, int], StructuredArticle] | None = None
    for data in _hydration_roots(root):
        stack: list[tuple[Any, int, bool]] = [(data, 0, False)]
        seen = 0
        while stack and seen < MAX_NODES:
            node, depth, in_list = stack.pop()
            seen += 1
            if depth >= MAX_DEPTH:
                continue
            if isinstance(node, list):
                stack.extend((x, depth + 1, True) for x in node if isinstance(x, (dict, list)))
                continue
            if not isinstance(node, dict):
                continue
            for key in _BODY_KEYS:
                value = node.get(key)
                if not isinstance(value, str) or len(value) < PROSE:
                    continue
                paragraphs = html_paragraphs(value)
                size = sum(len(p) for p in paragraphs if len(p) >= PROSE)
                if not size or not _article_like(paragraphs):
                    continue
                title = _first_text(node, _TITLE_KEYS)
                rank = (int(bool(_node_urls(node) & pages)), int(not in_list), int(bool(title)), size)
                if best is None or rank > best[0]:
                    best = (rank, StructuredArticle(title, tuple(paragraphs), _date(node), "hydration"))
            stack.extend(
                (v, depth + 1, in_list)
                for k, v in node.items()
                if isinstance(v, (dict, list)) and not _NOT_THE_ARTICLE.search(str(k))
            )
    return best[1] if best else None


def _first_text(node: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = node.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(html.unescape(value).split())  # references decoded once
    return ""


def _date(node: dict[str, Any]) -> datetime | None:
    for key in _DATE_KEYS:
        value = node.get(key)
        if isinstance(value, str) and value.strip():
            try:
                when = datetime.fromisoformat(value.strip())
            except ValueError:
                continue
            return plausible_date(when)  # None for a placeholder at the calendar's edge
    return None
