"""Pages that cannot be the item's own page, whatever they hold (pure).

`not_own_page(link, final)` says when the page a feed item's link gives is not that
item's article, so the feed's own title and teaser are matched instead (returned as an
`Interstitial` the pipeline treats like a wall: the item keeps its own URL as its key):

- a hash route (``/#!/news/1``, ``/#/article/2``): the fragment never reaches the
  server, every route fetches the same app shell (capyreader#865, NetNewsWire#4540);
- a link several items of the feed give (monitor.dedup.identity);
- a redirect, HTTP or soft (meta refresh, script), from an article to the site's home
  page (``/``, ``/index.html``, ``/ar/``): an expired, removed or geo-blocked article,
  or a site sending non-browser clients home (commafeed#225, tt-rss#57). Taking the
  home page as the article made every such item of a feed one article.
"""

from __future__ import annotations

import re
import urllib.parse

from monitor.dedup.keys import hash_route
from monitor.extract.interstitial import Interstitial

# the path of a site's (or a language edition's) home page
_HOME_PATH = re.compile(r"^/?(?:(?:index|default|home)(?:\.\w{2,5})?|[a-z]{2}(?:-[a-z]{2})?)?/?$", re.I)


def is_home(url: str) -> bool:
    """True when `url` is a site's home page (no query naming an article)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return False
    return bool(_HOME_PATH.match(parts.path)) and not parts.query and not hash_route(url)


def not_own_page(link: str, final: str | None = None, *, key: str = "") -> Interstitial | None:
    """Why the page of `link` (reached at `final` after redirects; None before fetching)
    is not the item's own page, or None when it may be. `key` is the item's article key:
    one that is not a link (``guid:``/``text:``) means several items of the feed share
    `link` (monitor.dedup.identity)."""
    if key.startswith(("guid:", "text:")):
        return Interstitial("shared link", "several items", link[:200])
    if hash_route(link):
        return Interstitial("app shell", "hash route", link[:200])
    if final and final != link and is_home(final) and not is_home(link):
        return Interstitial("home", "redirect", final[:200])
    return None
