"""The source-kind registry (monitor.sources.KINDS) is what dispatch, config validation and OPML read."""

from __future__ import annotations

import html

import pytest
import yaml

from monitor.config.load import Feed, parse_config
from monitor.errors import ConfigError, FeedParseError
from monitor.sources import DEFAULT_KIND, KINDS, parse_source
from monitor.sources.opml import parse_opml
from tests.support.corpus_pages import saudinewsnet_articles

TITLES = [a["title"] for a in saudinewsnet_articles("2015-07-21") if a["title"].strip()][:3]
BASE = "https://news.example.org"


def _rss() -> bytes:
    items = "".join(
        f"<item><title>{html.escape(t)}</title><link>{BASE}/rss/{i}.html</link></item>" for i, t in enumerate(TITLES)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()


def _page() -> bytes:
    cards = "".join(f'<h3><a href="/world/{i}.html">{html.escape(t)}</a></h3>' for i, t in enumerate(TITLES))
    return f'<html><head><meta charset="utf-8"></head><body><nav><a href="/">x</a></nav><main>{cards}</main></body></html>'.encode()


def _sitemap() -> bytes:
    urls = "".join(
        f"<url><loc>{BASE}/news/{i}.html</loc><news:news><news:title>{html.escape(t)}</news:title></news:news></url>"
        for i, t in enumerate(TITLES)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    ).encode()


BODIES = {
    "rss": (_rss(), "application/rss+xml", "/rss/"),
    "page": (_page(), "text/html", "/world/"),
    "sitemap": (_sitemap(), "application/xml", "/news/"),
}


def _feed(kind: str) -> Feed:
    extra = {"links": "main h3 a"} if KINDS[kind].takes_links else {}
    return Feed.model_validate({"name": "s", "url": f"{BASE}/x", "kind": kind, **extra})


def test_every_kind_has_a_test_body():
    assert set(BODIES) == set(KINDS) and DEFAULT_KIND in KINDS


@pytest.mark.parametrize("kind", list(KINDS))
def test_dispatch_reads_each_kind_with_its_own_parser(kind):
    content, content_type, path = BODIES[kind]
    feed = _feed(kind)
    result = parse_source(kind, "s", content, f"{BASE}/x", content_type, rules=feed.link_rules)
    assert [i.title for i in result.items] == TITLES
    assert all(path in i.url for i in result.items)


@pytest.mark.parametrize("kind", ["rss", "sitemap"])
def test_an_xml_kind_refuses_a_page(kind):
    with pytest.raises(FeedParseError):
        parse_source(kind, "s", BODIES["page"][0], f"{BASE}/x", "text/html")


def test_an_unknown_kind_is_refused_not_read_as_rss():
    with pytest.raises(ValueError, match="unknown source kind 'atom'"):
        parse_source("atom", "s", BODIES["rss"][0], f"{BASE}/x")


def _config(feed: dict) -> str:
    return yaml.safe_dump(
        {
            "feeds": [{"name": "s", "url": f"{BASE}/x", **feed}],
            "channels": {"c": "tgram://1:x/2"},
            "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": ["c"]}],
        }
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_config_accepts_every_registered_kind(kind):
    extra = {"link_pattern": "/world/"} if KINDS[kind].takes_links else {}
    (feed,) = parse_config(_config({"kind": kind, **extra}), env={}).feeds
    assert feed.kind == kind
    assert (feed.link_rules is not None) == KINDS[kind].takes_links


@pytest.mark.parametrize(
    "feed, message",
    [
        ({"kind": "atom"}, "feeds[0].kind: must be one of rss, page, sitemap (got 'atom')"),
        ({"kind": "RSS"}, "must be one of rss, page, sitemap"),
        ({"kind": "page"}, "needs `links` (CSS selector) or `link_pattern`"),
        ({"kind": "rss", "links": "a"}, "`links` and `link_pattern` are for `kind: page` sources"),
        ({"kind": "sitemap", "link_pattern": "/x/"}, "are for `kind: page` sources"),
    ],
)
def test_config_refuses_what_the_registry_does_not_have(feed, message):
    with pytest.raises(ConfigError) as err:
        parse_config(_config(feed), env={})
    assert message in str(err.value)


def test_link_rules_are_compiled_once_and_leave_equality_alone():
    a, b = _feed("page"), _feed("page")
    assert a.link_rules is a.link_rules  # kept on the frozen config: no recompiling per poll
    assert a == b and hash(a) == hash(b)  # equality is the config keys', not the compiled selectors'
    assert "link_rules" not in a.model_dump()
    assert _feed("rss").link_rules is None


@pytest.mark.parametrize(
    "outline_type, kind",
    [
        (None, "rss"),
        ("rss", "rss"),
        ("RSS", "rss"),
        ("page", "page"),
        ("sitemap", "sitemap"),
        ("link", "rss"),
        ("atom", "rss"),
    ],
)
def test_opml_types_map_onto_the_registry(outline_type, kind):
    attr = f' type="{outline_type}"' if outline_type else ""
    opml = f'<opml version="2.0"><body><outline text="s"{attr} xmlUrl="{BASE}/x"/></body></opml>'.encode()
    (feed,) = parse_opml(opml)
    assert feed.kind == kind
