"""Which listed items are one item, and which article each is (pure).

A feed item's ledger key is its GUID (``guid:<guid>``), else its link (``url:<url key>``);
its article key (`url_key`) is its normalized link, else `keys.linkless_key`. Three kinds
of feed break that identity, each seen in public reports:

- **One link, several items** (feed-rs/feed-rs#35: every item links ``https://3dnews.ru/``;
  NetNewsWire#4540: one link and one date for a whole day's items; erosman/support#330:
  forum posts differing only in ``#post-N``). A link listed in one response by items with
  different headlines or teasers is nobody's own page: each such item is its own article,
  keyed like a link-less item, and matched on its feed text. An item listed alone under
  that link before keeps the identity it had (no second alert).
- **One GUID, several articles** (feedbin/support#507, #573: the site's address as every
  item's GUID; #604: a new post under an older post's GUID). A GUID already in the ledger
  for another link AND another headline is a new article: keyed ``guid:<guid>#<url key>``.
  A GUID whose link alone changed (a slug edit, a domain move) stays one item.
- **No link** (feedbin/support#416, FreshRSS#5909: GUIDs regenerated on every fetch):
  see `Store.text_twin`, checked when the item is worked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.dedup.keys import linkless_key, normalize_url
from monitor.models import FeedItem


@dataclass(frozen=True)
class Known:
    """What the ledger holds under a key: the item's article key and headline."""

    url_key: str
    title: str


def is_linkless_key(url_key: str) -> bool:
    """True for an article key that is not a link (`keys.linkless_key`: ``guid:``/``text:``)."""
    return url_key.startswith(("guid:", "text:"))


def shared_links(items: Iterable[FeedItem]) -> frozenset[str]:
    """Normalized links that several items of one response give, with different headlines
    or teasers (the same item listed twice is not a shared link)."""
    seen: dict[str, tuple[str, str]] = {}
    shared: set[str] = set()
    for it in items:
        if not it.url:
            continue
        norm = normalize_url(it.url)
        text = (" ".join(it.title.split()), " ".join(it.summary.split()))
        if seen.setdefault(norm, text) != text:
            shared.add(norm)
    return frozenset(shared)


def prior_keys(items: Iterable[FeedItem], shared: frozenset[str]) -> list[str]:
    """The ledger keys `item_identity` needs looked up for these items."""
    keys = []
    for it in items:
        if it.guid:
            keys.append(f"guid:{it.guid}")
        elif it.url and normalize_url(it.url) in shared:
            keys.append(f"url:{normalize_url(it.url)}")
    return keys


def item_identity(feed: str, item: FeedItem, shared: frozenset[str], prior: Mapping[str, Known]) -> tuple[str, str]:
    """(ledger key, article key) of a listed item; `prior` holds the ledger rows of
    `prior_keys` (missing keys: not in the ledger)."""
    norm = normalize_url(item.url) if item.url else ""
    if not norm:
        url_key = linkless_key(feed, item)
    elif norm in shared:
        url_key = linkless_key(feed, item)
        before = prior.get(f"url:{norm}")
        if not item.guid and before is not None and before.url_key == norm and before.title == item.title:
            url_key = norm  # listed alone under this link before: the same item
    else:
        url_key = norm
    if not item.guid:
        return f"url:{url_key}", url_key
    key = f"guid:{item.guid}"
    before = prior.get(key)
    reused = (
        before is not None
        and before.url_key != url_key
        and before.title.strip() != item.title.strip()
        and not is_linkless_key(before.url_key)
        and not is_linkless_key(url_key)
    )
    return (f"{key}#{url_key}" if reused else key), url_key
