"""Soft redirects: pages that answer 200 and move on, and links that wrap their target (pure).

Aggregators, alert feeds, shorteners and tracking redirectors link to an
interstitial instead of the article. Two kinds are recognised, no JavaScript run:

* `unwrap_known(url)`: a wrapper URL carrying its target in a query parameter
  (``/url?q=…``, ``/l.php?u=…``, ``/redirect?url=…``) or a Google News article id
  of the old (base64) form. No fetch.
* `soft_target(body, content_type, refresh_header, base)`: a small HTML answer
  that moves on by an HTTP ``Refresh`` header, a ``<meta http-equiv="refresh">``
  with a delay of at most 10 s (inside ``<noscript>`` too), or, on a page with
  almost no visible text, a script assigning one literal URL to ``location``.

A refresh without a URL (a page reloading itself) or with a long delay is not
followed. The fetcher follows what this finds through the same SSRF guard, byte
cap, deadline and redirect budget as HTTP redirects (monitor.fetch.client).
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import lxml.html
from lxml import etree

__all__ = ["MAX_SOFT_BYTES", "soft_target", "unwrap_known"]

MAX_SOFT_BYTES = 64 * 1024  # interstitials are small; a larger page is an article
MAX_DELAY = 10.0  # seconds: a longer refresh is an auto-reload, not a redirect
MAX_VISIBLE = 200  # characters of visible text a script-redirect page may show
MAX_UNWRAP = 3
_WRAPPER_SEGMENTS = {
    "url",
    "l.php",
    "redirect",
    "redirect.php",
    "r",
    "out",
    "out.php",
    "go",
    "go.php",
    "link",
    "link.php",
    "click",
    "away",
    "away.php",
    "exit",
}
_TARGET_PARAMS = ("url", "u", "q", "target", "dest", "to", "redirect", "redirect_url", "link")
_META_TAG = re.compile(rb"<meta\b[^>]{0,600}>", re.I)
_HTTP_EQUIV = re.compile(rb"""http-equiv\s*=\s*["']?\s*refresh\b""", re.I)
_CONTENT = re.compile(rb"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_REFRESH = re.compile(r"""^\s*(\d+(?:\.\d*)?)?\s*(?:[;,]\s*|\s+)?(?:url\s*=\s*)?(.*)$""", re.I | re.S)
_SCRIPT_HINT = re.compile(rb"location", re.I)
_SCRIPT_TARGET = re.compile(
    r"""(?:window\.|document\.|top\.|self\.|parent\.)?location(?:\.href)?\s*=\s*(["'])([^"'\s]{1,2000})\1"""
    r"""|location\.(?:replace|assign)\(\s*(["'])([^"'\s]{1,2000})\3\s*\)""",
    re.I,
)


def _absolute_http(value: str) -> str | None:
    value = value.strip()
    if value.lower().startswith(("http://", "https://")) and urlsplit(value).hostname:
        return value
    return None


def _google_news(url: str) -> str | None:
    """The target of an old-form news.google.com/rss/articles/<base64> id, or None."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() != "news.google.com":
        return None
    m = re.search(r"/articles/([A-Za-z0-9_-]{8,})", parts.path)
    if not m:
        return None
    token = m.group(1)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    found = re.search(rb"https?://[\x21-\x7e]+", raw)
    if not found:
        return None  # new-form ids are opaque: fetched and followed instead
    return _absolute_http(found.group(0).decode("ascii"))


def _unwrap_once(url: str) -> str | None:
    news = _google_news(url)
    if news:
        return news
    parts = urlsplit(url)
    segment = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]).lower()
    host = (parts.hostname or "").lower()
    google = re.match(r"^(?:www\.)?google\.[a-z.]{2,6}$", host) is not None and segment == "url"
    if segment not in _WRAPPER_SEGMENTS and not google:
        return None
    params = parse_qsl(parts.query, keep_blank_values=True)
    targets = [t for k, v in params if k.lower() in _TARGET_PARAMS for t in [_absolute_http(v)] if t]
    return targets[0] if len(targets) == 1 else None


def unwrap_known(url: str) -> str | None:
    """The article URL a known wrapper URL carries (followed up to 3 wrappers deep), or None.

    A wrapper is a URL whose last path segment is a redirector's (url, l.php, redirect, r,
    out, go, link, click, away...) or a google.*/url, with exactly one of the parameters
    url, u, q, target, dest, to... holding an absolute http(s) URL; or an old-form Google
    News article id. Pure: nothing is fetched.
    """
    current, found = url, None
    for _ in range(MAX_UNWRAP):
        nxt = _unwrap_once(current)
        if nxt is None or nxt == current:
            break
        current = found = nxt
    return found


def _refresh_url(value: str, base: str) -> str | None:
    """The URL a Refresh value ("0; url=/x", "1;URL='/x'") moves to within MAX_DELAY, else None."""
    m = _REFRESH.match(value or "")
    if not m:
        return None
    delay, target = m.group(1), (m.group(2) or "").strip().strip("'\"").strip()
    if not target or (delay is not None and float(delay) > MAX_DELAY):
        return None
    return str(urljoin(base, target))


def _visible_chars(text: str) -> int:
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return 0
    for el in list(root.iter("script", "style", "noscript", "head", "title")):
        el.drop_tree()
    return len(" ".join(" ".join(root.itertext()).split()))


def soft_target(body: bytes, content_type: str, refresh_header: str | None, base: str) -> tuple[str, str] | None:
    """``(next URL, how)`` when a 200 answer is an interstitial, else None.

    `how` is "refresh-header", "meta-refresh" or "script". Only HTML answers of at most
    MAX_SOFT_BYTES are looked at; a target equal to `base` (a page reloading itself) is
    not a redirect.
    """
    if refresh_header:
        target = _refresh_url(refresh_header, base)
        if target and target != base:
            return target, "refresh-header"
    if len(body) > MAX_SOFT_BYTES:
        return None
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype and ctype not in ("text/html", "application/xhtml+xml", "text/plain"):
        return None
    for tag in _META_TAG.findall(body):
        if not _HTTP_EQUIV.search(tag):
            continue
        m = _CONTENT.search(tag)
        if not m:
            continue
        value = (m.group(1) or m.group(2) or m.group(3) or b"").decode("utf-8", "replace")
        target = _refresh_url(value, base)
        if target and target != base:
            return target, "meta-refresh"
    if not _SCRIPT_HINT.search(body):
        return None
    text = body.decode("utf-8", "replace")
    targets = {m.group(2) or m.group(4) for m in _SCRIPT_TARGET.finditer(text)}
    if len(targets) != 1 or _visible_chars(text) >= MAX_VISIBLE:
        return None
    target = urljoin(base, targets.pop())
    if not target.lower().startswith(("http://", "https://")) or target == base:
        return None
    return target, "script"
