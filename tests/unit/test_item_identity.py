"""Which listed items are one item and which article each is (monitor.dedup.identity,
dedup.keys.hash_route, extract.ownpage). Each row names the public report it is rebuilt
from; the whole path (a feed polled twice, alerts counted) is tests/integration/test_item_identity.py."""

from __future__ import annotations

import pytest

from monitor.dedup.identity import Known, item_identity, prior_keys, shared_links
from monitor.dedup.keys import clean_link, hash_route, linkless_key, normalize_url
from monitor.extract.ownpage import is_home, not_own_page
from monitor.models import FeedItem

# (link, its hash route, the link shown to a reader)
ROUTES = [
    ("https://x.example/#!/news/1001", "!/news/1001", "https://x.example/#!/news/1001"),  # Google's AJAX scheme
    ("https://x.example/#/article/2", "/article/2", "https://x.example/#/article/2"),  # Angular/Vue hash router
    ("https://x.example/a?utm_source=x#/r/1", "/r/1", "https://x.example/a#/r/1"),
    # capyreader#865: BBC's "#0"/"#3" are anchors, not routes: one article
    ("https://bbc.example/news/articles/cvg#0", "", "https://bbc.example/news/articles/cvg"),
    ("https://x.example/a#comments", "", "https://x.example/a"),
    ("https://x.example/#!", "", "https://x.example/"),
    ("https://x.example/#/", "", "https://x.example/"),
]


@pytest.mark.parametrize(("link", "route", "shown"), ROUTES, ids=[r[0] for r in ROUTES])
def test_a_hash_route_is_part_of_the_article_key(link, route, shown):
    assert hash_route(link) == route
    assert clean_link(link) == shown
    base = link.split("#")[0]
    assert (normalize_url(link) != normalize_url(base)) == bool(route)
    assert (not_own_page(link) is not None) == bool(route)


# (requested link, final URL after redirects, not the item's own page?)
REDIRECTS = [
    ("https://x.example/a.html", "https://x.example/", True),  # cisagov/dotgov-home#163: every page -> "/"
    ("https://x.example/news/12", "https://x.example/index.php", True),
    ("https://x.example/ar/news/12", "https://x.example/ar/", True),  # a language edition's home
    ("https://x.example/news/12", "https://x.example/home", True),
    ("https://x.example/a.html", "https://consent.x.example/v2?app=1", False),  # consent: interstitial.consent_redirect
    ("https://x.example/a.html", "https://x.example/2015/07/a.html", False),  # an article moved
    ("https://x.example/a.html", "https://x.example/?p=12", False),  # a query naming the article
    ("https://x.example/", "https://x.example/", False),  # the feed links the home page itself
    ("https://x.example/a.html", None, False),  # not fetched yet
]


@pytest.mark.parametrize(("link", "final", "not_own"), REDIRECTS, ids=[f"{r[0]}->{r[1]}" for r in REDIRECTS])
def test_a_redirect_home_is_not_the_article(link, final, not_own):
    wall = not_own_page(link, final)
    assert (wall is not None) == not_own
    if wall is not None:
        assert wall.kind == "home" and is_home(final)


def _it(title, url="", guid="", summary="", feed="F"):
    return FeedItem(feed, url, guid, title, summary)


# (variant, items of one response, links shared)
SHARED = [
    # feed-rs/feed-rs#35: every item links the site's root
    ("site root for all", [_it("a", "https://3d.example/"), _it("b", "https://3d.example/")], {"3d.example/"}),
    # erosman/support#330: forum posts differing only in #post-N
    (
        "anchors of one page",
        [_it("p1", "https://f.example/t/7#post-244"), _it("p2", "https://f.example/t/7#post-245")],
        {"f.example/t/7"},
    ),
    ("one item listed twice", [_it("a", "https://x.example/1"), _it("a", "https://x.example/1")], set()),
    (
        "same title, other teaser",
        [_it("a", "https://x.example/1", summary="s1"), _it("a", "https://x.example/1")],
        {"x.example/1"},
    ),
    ("own links", [_it("a", "https://x.example/1"), _it("b", "https://x.example/2")], set()),
    ("no links", [_it("a"), _it("b")], set()),
]


@pytest.mark.parametrize(("variant", "listed", "shared"), SHARED, ids=[s[0] for s in SHARED])
def test_shared_links(variant, listed, shared):
    got = shared_links(listed)
    assert got == shared, variant
    keys = {item_identity("F", it, got, {}) for it in listed}
    distinct = {(it.title, it.summary) for it in listed}
    assert len(keys) == len(distinct), f"{variant}: {keys}"


# (variant, ledger row under the item's GUID (url key, title) or None, the item, new ledger key?)
GUIDS = [
    # feedbin/support#507 / #573: the site's address as every item's GUID
    ("constant guid, new article", ("x.example/a", "A"), _it("B", "https://x.example/b", "https://x.example/"), True),
    # feedbin/support#604: a new post under an older post's GUID
    ("recycled by a CMS", ("x.example/a", "A"), _it("B", "https://x.example/b", "post-1"), True),
    ("slug edited, same headline", ("x.example/12-old", "A"), _it("A", "https://x.example/12-new", "g12"), False),
    ("headline edited, same link", ("x.example/12", "A"), _it("A2", "https://x.example/12", "g12"), False),
    ("moved to https and www", ("x.example/12", "A"), _it("A", "https://www.x.example/12", "g12"), False),
    ("first time", None, _it("A", "https://x.example/12", "g12"), False),
    ("link-less, re-titled", ("guid:F:g1", "A"), _it("B", "", "g1"), False),
]


@pytest.mark.parametrize(("variant", "before", "item", "new_key"), GUIDS, ids=[g[0] for g in GUIDS])
def test_a_reused_guid_is_a_new_item_only_with_a_new_link_and_headline(variant, before, item, new_key):
    (key,) = prior_keys([item], frozenset())
    prior = {key: Known(*before)} if before else {}
    got, url_key = item_identity("F", item, frozenset(), prior)
    assert (got != f"guid:{item.guid}") == new_key, f"{variant}: {got}"
    assert url_key == (normalize_url(item.url) if item.url else linkless_key("F", item))


def test_an_item_listed_alone_before_keeps_its_identity_when_its_link_becomes_shared():
    first = _it("a", "https://x.example/")
    key, url_key = item_identity("F", first, frozenset(), {})
    later = [first, _it("b", "https://x.example/")]
    shared = shared_links(later)
    prior = {k: Known(url_key, "a") for k in prior_keys(later, shared) if k == key}
    assert item_identity("F", first, shared, prior) == (key, url_key)
    assert item_identity("F", later[1], shared, prior)[0] != key
