"""Soft redirects: pages that answer 200 and move on, and links that wrap their target (pure).

Aggregators, alert feeds, shorteners and tracking redirectors link to an
interstitial instead of the article. Two kinds are recognised, no JavaScript run:

* `unwrap_known(url)`: a URL of a known wrapper (google.*/url, facebook's l.php,
  youtube's /redirect, ...: a small table of hosts and paths) carrying its target in a
  query parameter, a same-host redirector (``/go?url=`` pointing back at its own site),
  or a Google News article id of the old (base64) form. Never to a non-public address.
  No fetch.
* `soft_target(body, content_type, refresh_header, base)`: a small HTML answer
  that moves on by an HTTP ``Refresh`` header, a real ``<meta http-equiv="refresh">``
  element of the document's head (parsed, never matched in comments, scripts or
  CDATA) with a delay of at most 10 s, or, on a page with almost no visible text and
  no article body in its structured data, a ``<noscript>`` refresh or a script
  assigning one literal URL to ``location``. A response that is a feed or sitemap
  (RSS, Atom, RDF, urlset, OPML) is never an interstitial.

A refresh without a URL (a page reloading itself), with a long or malformed delay, or
to anything but http(s) (``javascript:``, ``data:``, ``file:``) is ignored, as browsers
do. The fetcher follows what this finds through the same SSRF guard, byte
cap, deadline and redirect budget as HTTP redirects (monitor.fetch.client).
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urljoin, urlsplit

from monitor.fetch.netguard import IPAddress, address_problem

if TYPE_CHECKING:  # lxml is imported by the first page that may redirect (issue 16: not by a 304 pass)
    from lxml import etree
    from lxml.html import HtmlElement

__all__ = ["MAX_SOFT_BYTES", "soft_target", "unwrap_known"]

MAX_SOFT_BYTES = 64 * 1024  # interstitials are small; a larger page is an article
MAX_DELAY = 10.0  # seconds: a longer refresh is an auto-reload, not a redirect
MAX_VISIBLE = 200  # characters of visible text a script-redirect page may show
MAX_UNWRAP = 3
# Known wrappers: (host suffix, path) -> the parameters that may carry the target.
_KNOWN_WRAPPERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("google.", "/url", ("q", "url")),
    ("facebook.com", "/l.php", ("u",)),
    ("instagram.com", "/", ("u",)),
    ("youtube.com", "/redirect", ("q",)),
    ("vk.com", "/away.php", ("to",)),
    ("duckduckgo.com", "/l/", ("uddg",)),
    ("steamcommunity.com", "/linkfilter/", ("url", "u")),
    ("t.umblr.com", "/redirect", ("z",)),
)
_SAME_HOST_SEGMENTS = frozenset(
    {
        "url",
        "l.php",
        "away.php",
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
        "exit",
    }
)
_TARGET_PARAMS = ("url", "u", "q", "target", "dest", "to", "redirect", "redirect_url", "link")
_FEED_ROOTS = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(rss|feed|RDF|urlset|sitemapindex|opml)\b")
_FIRST_TAG = re.compile(rb"<(?![?!])")
_SCRIPT_HINT = re.compile(rb"location", re.I)
_SCRIPT_TARGET = re.compile(
    r"""(?:window\.|document\.|top\.|self\.|parent\.)?location(?:\.href)?\s*=(?!=)\s*(["'])([^"'\s]{1,2000})\1"""
    r"""|location\.(?:replace|assign)\(\s*(["'])([^"'\s]{1,2000})\3\s*\)""",
    re.I,
)
_LD_BODY = re.compile(r'"articleBody"\s*:\s*"[^"]{100}|"articleBody"\s*:\s*\[')


Problem = Callable[[IPAddress], str | None]


def _public_http(value: str, problem: Problem = address_problem) -> str | None:
    """`value` when it is an absolute http(s) URL whose host is not an address `problem`
    refuses (by default: any non-public one) nor a local name (localhost, *.local)."""
    value = value.strip()
    parts = urlsplit(value)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    if (host == "localhost" or host.endswith((".localhost", ".local", ".internal"))) and problem(
        ipaddress.ip_address("127.0.0.1")
    ):
        return None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return value if re.search(r"[a-z]", host.rsplit(".", 1)[-1]) else None  # 2130706433 / 0x7f.1 style
    return value if problem(ip) is None else None


def _absolute_http(value: str) -> str | None:
    value = value.strip()
    if value.lower().startswith(("http://", "https://")) and urlsplit(value).hostname:
        return value
    return None


def _google_news(url: str, problem: Problem) -> str | None:
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
    return _public_http(found.group(0).decode("ascii"), problem)


def _site(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def _unwrap_once(url: str, problem: Problem) -> str | None:
    news = _google_news(url, problem)
    if news:
        return news
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    params = parse_qsl(parts.query, keep_blank_values=True)
    names: tuple[str, ...] = ()
    for suffix, wpath, keys in _KNOWN_WRAPPERS:
        on_host = (
            re.match(r"^(?:www\.)?google\.[a-z.]{2,6}$", host) is not None
            if suffix == "google."
            else host == suffix or host.endswith("." + suffix)
        )
        if on_host and (path == wpath or (wpath.endswith("/") and path.startswith(wpath))):
            names = keys
            break
    same_host = not names and path.rstrip("/").rsplit("/", 1)[-1].lower() in _SAME_HOST_SEGMENTS
    if same_host:
        names = _TARGET_PARAMS
    targets = [t for k, v in params if k.lower() in names for t in [_public_http(v, problem)] if t]
    if len(set(targets)) != 1:
        return None
    target = targets[0]
    if same_host and _site((urlsplit(target).hostname or "").lower()) != _site(host):
        return None  # an open redirector on some site: its target is not known to be the article
    return target


def unwrap_known(url: str, problem: Problem = address_problem) -> str | None:
    """The article URL a known wrapper URL carries (followed up to 3 wrappers deep), or None.

    Known wrappers are a small table of hosts and paths (google.*/url?q=, facebook.com/l.php?u=,
    youtube.com/redirect?q=, vk.com/away.php?to=, duckduckgo.com/l/?uddg=, ...), old-form
    Google News article ids, and same-host redirectors (``/go?url=``, ``/out?to=`` ... whose
    one target is on the wrapper's own site). The target must be an absolute http(s) URL
    whose host is not an address `problem` refuses (default: any loopback, private,
    link-local... literal, as fetches do; `Fetcher.unwrap` passes the fetcher's own policy)
    nor ``localhost``. Pure: nothing is fetched or resolved.
    """
    current, found = url, None
    for _ in range(MAX_UNWRAP):
        nxt = _unwrap_once(current, problem)
        if nxt is None or nxt == current:
            break
        current = found = nxt
    return found


def _refresh_url(value: str, base: str) -> str | None:
    """The http(s) URL a Refresh value ("0; url=/x", "1;URL='/x'") moves to within MAX_DELAY.

    Parsed as browsers do (HTML's declarative refresh steps): the value must start with a
    non-negative number; anything else (``abc``, ``-1;url=``), a longer delay, no URL, or a
    target that is not http(s) (``javascript:``, ``data:``, ``file:``) gives None.
    """
    m = re.match(r"\s*(\d+)(?:\.[\d.]*)?\s*(.*)$", value or "", re.S)
    if not m or int(m.group(1)) > MAX_DELAY:
        return None
    rest = m.group(2)
    if rest and rest[0] not in ";, \t\n":
        return None
    rest = rest.lstrip(" \t\n;,")
    um = re.match(r"url\s*=\s*", rest, re.I)
    target = rest[um.end() :] if um else rest
    if target[:1] in ("'", '"'):
        quote = target[0]
        target = target[1:].split(quote, 1)[0]
    target = target.strip()
    if not target:
        return None
    resolved = str(urljoin(base, target))
    parts = urlsplit(resolved)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return resolved


def _is_feed(body: bytes) -> bool:
    """The answer is an XML feed, sitemap or OPML (whatever its Content-Type says)."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<?xml"):
        return True
    first = _FIRST_TAG.search(head)
    return bool(first) and _FEED_ROOTS.match(head, first.start()) is not None  # type: ignore[union-attr]


def _visible_chars(root: HtmlElement) -> int:
    root = copy.deepcopy(root)
    for el in list(root.iter("script", "style", "noscript", "head", "title")):
        el.drop_tree()
    return len(" ".join(" ".join(root.itertext()).split()))


def _has_structured_body(root: etree._Element) -> bool:
    """The page carries an article body in its own data (JSON-LD articleBody, __NEXT_DATA__)."""
    for script in root.iter("script"):
        kind = (script.get("type") or "").lower()
        text = script.text or ""
        if "ld+json" in kind and _LD_BODY.search(text):
            return True
        if script.get("id") == "__NEXT_DATA__" and len(text) > 2000:
            return True
    return False


def _meta_refresh(root: etree._Element, base: str, in_noscript: bool) -> str | None:
    head = root.find("head")
    if head is None:
        return None
    for meta in head.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        if (next(meta.iterancestors("noscript"), None) is not None) != in_noscript:
            continue
        target = _refresh_url(meta.get("content") or "", base)
        if target and target != base:
            return target
    return None


def _may_redirect(body: bytes) -> bool:
    """False when no parse can find a target: no "refresh" in any case (a meta refresh's
    http-equiv), no character reference that could spell it, no NUL (a UTF-16/32 page hides
    ASCII words) and no "location" (a script redirect)."""
    if b"&#" in body or b"\x00" in body or b"refresh" in body or b"location" in body:
        return True
    low = body.lower()  # ASCII only, as _SCRIPT_HINT's re.I on bytes: one copy, two plain searches
    return b"refresh" in low or b"location" in low


def soft_target(body: bytes, content_type: str, refresh_header: str | None, base: str) -> tuple[str, str] | None:
    """``(next URL, how)`` when a 200 answer is an interstitial, else None.

    `how` is "refresh-header", "meta-refresh" or "script". Feeds and sitemaps are never
    interstitials. Only HTML answers of at most MAX_SOFT_BYTES are parsed (lxml, no
    script run); a target equal to `base` (a page reloading itself) is not a redirect.
    A ``<noscript>`` refresh or a script ``location`` change is followed only on a page
    with under MAX_VISIBLE characters of visible text and no structured article body.
    """
    if _is_feed(body):
        return None
    if refresh_header:
        target = _refresh_url(refresh_header, base)
        if target and target != base:
            return target, "refresh-header"
    if len(body) > MAX_SOFT_BYTES or not body.strip():
        return None
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype and ctype not in ("text/html", "application/xhtml+xml", "text/plain"):
        return None
    if not _may_redirect(body):
        return None  # most pages: no parse (it was ≈ 0.6 ms of every small page, issue 16)
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return None
    target = _meta_refresh(root, base, in_noscript=False)
    if target:
        return target, "meta-refresh"
    if _has_structured_body(root) or _visible_chars(root) >= MAX_VISIBLE:
        return None
    target = _meta_refresh(root, base, in_noscript=True)
    if target:
        return target, "meta-refresh"
    if not _SCRIPT_HINT.search(body):
        return None
    targets = {
        m.group(2) or m.group(4) for script in root.iter("script") for m in _SCRIPT_TARGET.finditer(script.text or "")
    }
    if len(targets) != 1:
        return None
    target = urljoin(base, targets.pop())
    if not target.lower().startswith(("http://", "https://")) or target == base:
        return None
    return target, "script"
