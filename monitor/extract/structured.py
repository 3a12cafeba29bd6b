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

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import lxml.html
from lxml import etree

__all__ = ["StructuredArticle", "noscript_html", "structured_article"]

PROSE = 100  # a paragraph this long is article prose
MAX_DEPTH = 64  # hydration data is walked this deep at most
MAX_NODES = 20_000  # ... and through this many values
_ARTICLE_TYPES = ("Article", "NewsArticle", "ReportageNewsArticle", "BlogPosting", "AnalysisNewsArticle")
_BODY_KEYS = ("articleBody", "body", "content", "text", "html", "bodyHtml", "content_html")
_TITLE_KEYS = ("headline", "title", "name")
_DATE_KEYS = ("datePublished", "publishedAt", "published_at", "publishDate", "date", "createdAt")
_STATE = re.compile(r"(?:window\.)?__(?:NUXT|INITIAL_STATE|PRELOADED_STATE|APOLLO_STATE)__\s*=\s*", re.S)
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "tr")
_HTML_TAG = re.compile(r"<(?:p|div|br|span|h[1-6]|li|strong|em|b|a)\b", re.I)


@dataclass(frozen=True)
class StructuredArticle:
    """An article body found in structured data.

    ``paragraphs`` are plain text; ``published`` is UTC (None if absent or unreadable);
    ``source`` is "jsonld" or "hydration".
    """

    title: str
    paragraphs: tuple[str, ...]
    published: datetime | None
    source: str


def structured_article(root: etree._Element) -> StructuredArticle | None:
    """The article in the page's JSON-LD, else in its hydration data; None if neither holds prose.

    `root` is the page as parsed, scripts included (not the cleaned tree).
    """
    return _from_jsonld(root) or _from_hydration(root)


def noscript_html(root: etree._Element) -> str | None:
    """The markup inside the page's ``<noscript>`` elements, when it holds prose; else None."""
    parts = []
    for el in root.iter("noscript"):
        inner = (el.text or "") + "".join(etree.tostring(c, encoding="unicode", method="html") for c in el)
        if any(len(p) >= PROSE for p in html_paragraphs(inner)):
            parts.append(inner)
    return "\n".join(parts) or None


def html_paragraphs(value: str) -> list[str]:
    """A body string (plain text with blank lines, or HTML) -> its paragraphs as plain text."""
    if not _HTML_TAG.search(value):
        return [t for t in (" ".join(p.split()) for p in re.split(r"\n\s*\n|\r\n\s*\r\n", value)) if t]
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


def _is_article(node: dict[str, Any]) -> bool:
    kinds = node.get("@type")
    kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
    return any(isinstance(k, str) and k.split("/")[-1] in _ARTICLE_TYPES for k in kinds)


def _jsonld_nodes(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for x in data:
            yield from _jsonld_nodes(x, depth + 1)
    elif isinstance(data, dict):
        yield data
        if isinstance(data.get("@graph"), list):
            yield from _jsonld_nodes(data["@graph"], depth + 1)
        if isinstance(data.get("mainEntity"), dict):
            yield from _jsonld_nodes(data["mainEntity"], depth + 1)


def _from_jsonld(root: etree._Element) -> StructuredArticle | None:
    best: StructuredArticle | None = None
    for script in root.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        for node in _jsonld_nodes(_loads(script.text or "")):
            body = node.get("articleBody")
            if not _is_article(node) or not isinstance(body, str):
                continue
            paragraphs = html_paragraphs(body)
            if not any(len(p) >= PROSE for p in paragraphs):
                continue
            found = StructuredArticle(_first_text(node, ("headline", "name")), tuple(paragraphs), _date(node), "jsonld")
            if best is None or sum(map(len, found.paragraphs)) > sum(map(len, best.paragraphs)):
                best = found
    return best


def _hydration_roots(root: etree._Element) -> Iterator[Any]:
    for script in root.iter("script"):
        text = script.text or ""
        if script.get("id") == "__NEXT_DATA__":
            yield _loads(text)
            continue
        m = _STATE.search(text)
        if m is None:
            continue
        start = m.end()
        if text[start : start + 1] not in ("{", "["):
            continue  # a function or expression: not evaluated
        try:
            value, _end = json.JSONDecoder().raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        yield value


def _from_hydration(root: etree._Element) -> StructuredArticle | None:
    best: tuple[int, StructuredArticle] | None = None
    for data in _hydration_roots(root):
        stack: list[tuple[Any, int]] = [(data, 0)]
        seen = 0
        while stack and seen < MAX_NODES:
            node, depth = stack.pop()
            seen += 1
            if depth >= MAX_DEPTH:
                continue
            if isinstance(node, list):
                stack.extend((x, depth + 1) for x in node if isinstance(x, (dict, list)))
                continue
            if not isinstance(node, dict):
                continue
            for key in _BODY_KEYS:
                value = node.get(key)
                if not isinstance(value, str) or len(value) < PROSE:
                    continue
                paragraphs = html_paragraphs(value)
                size = sum(len(p) for p in paragraphs if len(p) >= PROSE)
                if size and (best is None or size > best[0]):
                    title = _first_text(node, _TITLE_KEYS)
                    best = (size, StructuredArticle(title, tuple(paragraphs), _date(node), "hydration"))
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
    return best[1] if best else None


def _first_text(node: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = node.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return ""


def _date(node: dict[str, Any]) -> datetime | None:
    for key in _DATE_KEYS:
        value = node.get(key)
        if isinstance(value, str) and value.strip():
            try:
                when = datetime.fromisoformat(value.strip())
            except ValueError:
                continue
            return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return None
