"""Dedup keys (pure): one article, one key, whatever the feed's link decoration."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from monitor.models import FeedItem
from monitor.text.normalize import fold

# Query parameters that only track the reader, never select the article.
_TRACKING_PREFIXES = ("utm_", "at_", "mc_", "pk_", "ga_", "hsa_", "_hs")
_TRACKING = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "ocid",
    "cmpid",
    "xtor",
    "ito",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "ns_linkname",
    "ns_fee",
    "spm",
    "_ga",
    "ref_src",
    "s_cid",
    "smid",
}
# Ambiguous names (source, from, ref, id, cid) are kept: on some sites they select the article.


def hash_route(url: str) -> str:
    """The route of a hash-routed link (``/#!/news/1``, ``/#/article/2``: the part after
    ``#``), "" for any other link. The browser never sends a fragment: on a hash-routed
    site every route fetches the same page (the app shell), so the route IS the article
    (capyreader#865, NetNewsWire#4540 rebuilt in tests/unit/test_item_identity.py)."""
    _, _, fragment = url.partition("#")
    return fragment if fragment[:1] in ("!", "/") and len(fragment) > 1 else ""


def normalize_url(url: str) -> str:
    """A stable key for an article URL.

    Case of scheme and host, http vs https, a leading www., default ports,
    fragments, tracking parameters, parameter order, percent-encoding and a
    trailing slash do not change the key; a hash route (`hash_route`) does.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%")
    if len(path) > 1:
        path = path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower() in _TRACKING or k.lower().startswith(_TRACKING_PREFIXES))
    ]
    return urlunsplit(("", netloc, path or "/", urlencode(sorted(query)), hash_route(url))).lstrip("/")


def clean_link(url: str) -> str:
    """The URL to show a reader: tracking parameters (utm_*, fbclid, ...) and the fragment
    (unless it is a hash route, `hash_route`) removed; scheme, host, path and the other
    parameters, in their order, kept (pure).
    Unlike `normalize_url` (a key), the result still opens the page."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    # the other parameters exactly as written: re-encoding would turn `?live` into `?live=`
    kept = [p for p in parts.query.split("&") if p and not _tracking(unquote(p.partition("=")[0]))]
    query = "&".join(kept)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, hash_route(url)))


def _tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING or low.startswith(_TRACKING_PREFIXES)


TITLE_KEY_MIN_WORDS = 4  # shorter titles ("عاجل", "Live") recur for different stories


def title_key(item: FeedItem) -> str:
    """A per-feed fingerprint of a headline long enough to be specific ("" otherwise)."""
    folded = " ".join(fold(item.title).split())
    if len(folded.split()) < TITLE_KEY_MIN_WORDS:
        return ""
    return "title:" + hashlib.sha1(folded.encode("utf-8")).hexdigest()


def linkless_key(feed: str, item: FeedItem) -> str:
    """The identity of a feed item with no link: its GUID in the feed, else a hash of its text."""
    if item.guid:
        return f"guid:{feed}:{item.guid}"
    text = f"{item.title}\n{item.summary}".encode()
    return f"text:{feed}:{hashlib.sha1(text).hexdigest()}"
