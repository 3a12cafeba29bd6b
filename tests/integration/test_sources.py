"""Beyond RSS: section pages, news sitemaps, autodiscovery, OPML, and `monitor feeds`."""

from __future__ import annotations

import gzip
import html
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.errors import ConfigError, FeedParseError
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.sources.discover import discover_feeds
from monitor.sources.opml import OpmlFeed, build_opml, parse_opml
from monitor.sources.page import compile_link_rules, parse_page
from monitor.sources.sitemap import parse_sitemap
from monitor.storage import Store
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.web import Response

ROOT = Path(__file__).resolve().parents[2]
SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


def articles(n: int) -> list[dict]:
    return [a for a in saudinewsnet_articles("2015-07-21") if len(a["content"]) > 800][:n]


def section_page(base: str, arts: list[dict], other: list[dict]) -> str:
    """A section front: article cards, plus menus and a most-read box linking elsewhere."""
    cards = "".join(
        f'<div class="card"><h3 class="headline"><a href="/world/2015/{i}.html">'
        f"{html.escape(a['title'])}</a></h3></div>"
        for i, a in enumerate(arts)
    )
    noise = "".join(f'<li><a href="/tag/{i}">{html.escape(a["title"][:30])}</a></li>' for i, a in enumerate(other))
    return (
        f'<html><head><title>العالم</title><base href="{base}/"></head><body>'
        f'<nav><a href="/">الرئيسية</a><a href="/sport/">رياضة</a><a href="#top">^</a>'
        f'<a href="javascript:void(0)">x</a></nav><main>{cards}</main><aside><ul>{noise}</ul></aside>'
        f'<a href="/world/2015/0.html#comments">تعليقات</a></body></html>'
    )


@pytest.mark.parametrize(
    "links,pattern",
    [("h3.headline a", None), ("div.card", None), (None, r"/world/\d{4}/\d+\.html$"), ("main a", r"/world/")],
)
def test_section_page_links(links, pattern):
    arts, other = articles(3), articles(6)[3:]
    text = section_page("http://news.example.org", arts, other)
    result = parse_page("s", text.encode(), "http://news.example.org/world/", compile_link_rules(links, pattern))
    assert [i.url for i in result.items] == [f"http://news.example.org/world/2015/{i}.html" for i in range(3)]
    assert [i.title for i in result.items] == [a["title"] for a in arts]


def test_page_source_rules_are_validated_in_config():
    base = {
        "channels": {"m": "mailto://x@example.com"},
        "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": ["m"]}],
    }
    for feed, msg in [
        ({"kind": "page"}, "needs `links`"),
        ({"kind": "page", "link_pattern": r"(a+)\1"}, "RE2"),
        ({"kind": "page", "links": "div[["}, "CSS selector"),
        ({"links": "a"}, "for `kind: page`"),
    ]:
        text = yaml.safe_dump({**base, "feeds": [{"name": "p", "url": "https://example.org/", **feed}]})
        with pytest.raises(ConfigError, match=msg):
            parse_config(text, env={})


def test_page_source_end_to_end(web_server, tmp_path):
    arts = articles(3)
    base = web_server.base_url
    web_server.routes["/world/"] = Response(
        200, section_page(base, arts, articles(5)[3:]).encode(), {"Content-Type": "text/html; charset=utf-8"}
    )
    for i, a in enumerate(arts):
        path = f"/world/2015/{i}.html"
        web_server.routes[path] = Response(
            200,
            article_page(
                a["title"], split_paragraphs(a["content"]), outlet=a["source"], url=web_server.url(path)
            ).encode(),
            {"Content-Type": "text/html; charset=utf-8"},
        )
    cfg = parse_config(
        yaml.safe_dump(
            {
                "storage": f"sqlite:///{tmp_path / 'm.db'}",
                "defaults": {"backfill": "off"},  # a section page's links are undated
                "fetch": {"allow_private_networks": True},
                "feeds": [
                    {"name": "World", "url": web_server.url("/world/"), "kind": "page", "links": "h3.headline a"}
                ],
                "channels": {"m": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
                "topics": [{"id": "t", "name": "T", "any": [arts[1]["title"].split()[0]], "notify": ["m"]}],
            },
            allow_unicode=True,
        ),
        path=tmp_path / "config.yaml",
        env={},
    )
    store, fetcher = Store(cfg.storage_url), Fetcher.from_config(cfg)
    try:
        pipeline = Pipeline(cfg, store, fetcher)
        assert pipeline.poll_feed(cfg.feeds[0]).new == 3
        stored = list(store.articles_since(datetime(2000, 1, 1, tzinfo=UTC)))
        assert sorted(a.title for a in stored) == sorted(a["title"] for a in arts)
        assert all(len(a.body) > 300 for a in stored)
        assert pipeline.poll_feed(cfg.feeds[0], force=True).new == 0  # links already seen
        assert store.feed_state("World").kind == "page"
    finally:
        fetcher.close()
        store.close()


def news_sitemap(arts: list[dict], base: str) -> bytes:
    urls = "".join(
        f"<url><loc>{base}/news/{i}.html</loc><news:news><news:publication><news:name>x</news:name>"
        f"<news:language>ar</news:language></news:publication>"
        f"<news:publication_date>2015-07-21T10:0{i}:00+03:00</news:publication_date>"
        f"<news:title>{html.escape(a['title'])}</news:title></news:news></url>"
        for i, a in enumerate(arts)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{SM}" xmlns:news="{NEWS}">{urls}</urlset>'.encode()


@pytest.mark.parametrize("zipped", [False, True])
def test_news_sitemap(zipped):
    arts = articles(3)
    data = news_sitemap(arts, "https://news.example.org")
    result = parse_sitemap("s", gzip.compress(data) if zipped else data, "https://news.example.org/sitemap.xml")
    assert [i.title for i in result.items] == [a["title"] for a in arts]
    assert result.items[0].url == "https://news.example.org/news/0.html"
    assert result.items[2].published == datetime(2015, 7, 21, 7, 2, tzinfo=UTC)


def test_sitemap_index_and_xml_attacks_are_clean_errors():
    index = f'<sitemapindex xmlns="{SM}"><sitemap><loc>https://x.org/news.xml</loc></sitemap></sitemapindex>'
    with pytest.raises(FeedParseError, match="sitemap index.*https://x.org/news.xml"):
        parse_sitemap("s", index.encode(), "https://x.org/sitemap.xml")
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {c} "{(f"&{p};") * 10}">' for p, c in zip("abcdefgh", "bcdefghi"))
        + f']><urlset xmlns="{SM}"><url><loc>https://x.org/&i;</loc></url></urlset>'
    )
    try:  # libxml2 either refuses the amplification outright or leaves the entity unexpanded
        result = parse_sitemap("s", laughs.encode(), "https://x.org/sitemap.xml")
        assert all(len(i.url) < 100 for i in result.items)
    except FeedParseError as exc:
        assert "amplification" in str(exc) or "entit" in str(exc)
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<urlset xmlns="{SM}"><url><loc>https://x.org/a</loc><news:title xmlns:news="{NEWS}">&x;</news:title>'
        f"</url></urlset>"
    )
    result = parse_sitemap("s", xxe.encode(), "https://x.org/sitemap.xml")
    assert "root:" not in result.items[0].title
    deep = f'<urlset xmlns="{SM}">' + "<x>" * 5000 + "</x>" * 5000 + "</urlset>"
    with pytest.raises(FeedParseError, match="not well-formed"):
        parse_sitemap("s", deep.encode(), "https://x.org/sitemap.xml")


def test_autodiscovery():
    home = (
        '<html><head><link rel="alternate" type="application/rss+xml" title="الأخبار" href="/rss/news.xml">'
        '<link rel="alternate" type="application/atom+xml" href="https://cdn.example.org/atom">'
        '<link rel="stylesheet" href="/s.css"></head><body><a href="/feeds/sport.rss">رياضة</a>'
        '<a href="/news/1.html">خبر</a></body></html>'
    )
    found = discover_feeds(home.encode(), "https://example.org/")
    assert [(f.url, f.type) for f in found] == [
        ("https://example.org/rss/news.xml", "rss"),
        ("https://cdn.example.org/atom", "atom"),
        ("https://example.org/feeds/sport.rss", "link"),
    ]
    assert found[0].title == "الأخبار"


def test_opml_round_trip_and_nesting():
    feeds = [
        OpmlFeed("الجزيرة", "https://www.aljazeera.net/rss"),
        OpmlFeed("World", "https://news.example.org/world/", "page", "h3 a", r"/\d+\.html"),
        OpmlFeed('A & "B"', "https://example.org/sitemap.xml", "sitemap"),
    ]
    assert parse_opml(build_opml(feeds).encode()) == feeds
    nested = (
        '<opml version="1.0"><body><outline text="عربي"><outline text="BBC" type="rss" '
        'xmlUrl="https://feeds.bbci.co.uk/arabic/rss.xml"/></outline></body></opml>'
    )
    assert parse_opml(nested.encode()) == [OpmlFeed("BBC", "https://feeds.bbci.co.uk/arabic/rss.xml")]


# ---- the CLI as a user runs it ---------------------------------------------------
def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env.update(PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=config.parent,
    )


CONFIG = """# my feeds
storage: sqlite:///m.db
fetch: {allow_private_networks: true}
defaults: {backfill: off}   # undated items, counted as seen on the first poll

feeds:
  # the main one
  - name: Main
    url: URL_MAIN
    interval: 15m   # keep this comment

channels:
  m: mailto://127.0.0.1:9?from=a@example.com&to=b@example.com
topics:
  - {id: t, name: T, any: [روسيا], notify: [m]}
"""


def test_feeds_import_export_and_health_listing(tmp_path, web_server):
    arts = articles(2)
    web_server.routes["/main.xml"] = Response(
        200,
        (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
            + "".join(
                f"<item><title>{html.escape(a['title'])}</title><guid isPermaLink=\"false\">{i}</guid>"
                f"<description>{html.escape(a['content'][:300])}</description></item>"
                for i, a in enumerate(arts)
            )
            + "</channel></rss>"
        ).encode(),
        {"Content-Type": "application/rss+xml"},
    )
    web_server.routes["/down.xml"] = Response(503, b"busy", {"Retry-After": "3600"})
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.replace("URL_MAIN", web_server.url("/main.xml")), encoding="utf-8")
    opml = tmp_path / "list.opml"
    opml.write_text(
        build_opml(
            [
                OpmlFeed("Main again", web_server.url("/main.xml")),
                OpmlFeed("Down", web_server.url("/down.xml")),
                OpmlFeed("Main", "https://example.org/other.xml"),
                OpmlFeed("Map", "https://example.org/sitemap.xml", "sitemap"),
            ]
        ),
        encoding="utf-8",
    )

    dry = run(config, "feeds", "import", str(opml), "--dry-run")
    assert dry.returncode == 0 and "3 to add, 1 skipped of 4" in dry.stdout
    assert "would skip: Main again:" in dry.stdout and "would add: Main again" not in dry.stdout
    assert "URL_MAIN" not in config.read_text() and "Down" not in config.read_text()

    done = run(config, "feeds", "import", str(opml))
    assert done.returncode == 0, done.stderr
    text = config.read_text(encoding="utf-8")
    assert "# the main one" in text and "# keep this comment" in text  # the user's file is kept
    loaded = yaml.safe_load(text)
    assert [f["name"] for f in loaded["feeds"]] == ["Main", "Down", "Main (2)", "Map"]
    assert loaded["feeds"][3]["kind"] == "sitemap"
    assert run(config, "check").returncode == 0
    again = run(config, "feeds", "import", str(opml))
    assert "0 added, 4 skipped of 4" in again.stdout

    exported = run(config, "feeds", "export")
    assert [f.name for f in parse_opml(exported.stdout.encode())] == ["Main", "Down", "Main (2)", "Map"]

    assert run(config, "feeds").stdout.count("never polled") == 4
    once = run(config, "once")
    assert once.returncode == 0, once.stderr
    listing = run(config, "feeds")
    assert listing.returncode == 0, listing.stderr
    main, down = listing.stdout.split("Down [rss]")[0], listing.stdout.split("Down [rss]")[1].split("Main (2)")[0]
    assert "status: ok" in main and "items seen: 2" in main
    assert "failing (1 in a row" in down and "HTTP 503" in down and "next poll: in 60m" in down

    web_server.routes["/"] = Response(
        200,
        (
            '<html><head><link rel="alternate" type="application/rss+xml" title="كل الأخبار" href="/main.xml">'
            "</head><body></body></html>"
        ).encode(),
        {"Content-Type": "text/html; charset=utf-8"},
    )
    found = run(config, "feeds", "discover", web_server.url("/"))
    assert found.returncode == 0 and f"{web_server.url('/main.xml')}  [rss]  كل الأخبار" in found.stdout


def test_a_home_page_served_instead_of_the_feed_names_the_feeds_it_announces():
    from monitor.sources.rss import parse_feed_result

    home = (
        '<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" href="/rss/all.xml">'
        "</head><body><p>الرئيسية</p></body></html>"
    ).encode()
    with pytest.raises(FeedParseError, match="served an HTML page.*announces feeds: https://example.org/rss/all.xml"):
        parse_feed_result("f", home, "https://example.org/feed", "text/html")
