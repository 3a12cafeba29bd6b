"""A NUL in feed text (issue 14 kind 6, field case security/22-nul-and-sql-text).

PostgreSQL refuses U+0000 in text, so an item whose title held one failed on every poll
while the feed showed "ok". Now NUL is dropped on the way into the store (every text
column, every dialect) and the item is stored and alerts once. Public reports of the kind,
rebuilt here as inputs: psycopg/psycopg2#1243 (a NUL inside a value), MIT-LCP/oracle2postgres#15
(a NUL in the middle of a short field), Arize-ai/phoenix#9123 (a trailing/leading NUL).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.models import Article
from monitor.pipeline import Pipeline
from monitor.storage import Store
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.site import rss

FIXTURE = Path(__file__).parents[1] / "fixtures" / "security" / "22-nul-and-sql-text" / "feed.bin"
SINCE = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "title",
    [
        "redteam nul \x00 inside \x00 title",  # the field case
        "\x00redteam leading",
        "redteam trailing\x00",
        "red\x00team",  # inside a word
        "5{\x00x redteam",
    ],
)
def test_nul_in_any_text_column_is_dropped_not_refused(store, title):
    article = Article(
        url="http://example.org/a\x00.html",
        url_key="example.org/a\x00.html",
        feed="F",
        title=title,
        body="body \x00 text",
    )
    article_id = store.save_article(article, guid="g\x00uid", outlet="O\x00utlet", matches=[], alerts=[])
    assert article_id is not None
    [stored] = list(store.articles_since(SINCE))
    assert stored.title == title.replace("\x00", "")
    assert stored.body == "body  text" and stored.url == "http://example.org/a.html"
    # a second save of the same item is the same item (the key was cleaned the same way)
    assert store.save_article(article, guid="g\x00uid", outlet="O", matches=[], alerts=[]) is None


def _pipeline(tmp_path, store_url: str, web) -> tuple[Pipeline, Store, Fetcher, object]:
    config = {
        "storage": store_url,
        "defaults": {"timeout": "3s", "interval": "10m", "backfill": "off"},  # old or undated items
        "fetch": {"allowed_networks": ["127.0.0.1/32"]},
        "feeds": [{"name": "Healthy", "url": web.url("/healthy.xml")}, {"name": "Nul", "url": web.url("/nul.xml")}],
        "channels": {"mail": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
        "topics": [{"id": "t", "name": "T", "any": ["redteam"], "notify": ["mail"]}],
    }
    cfg = parse_config(yaml.safe_dump(config, allow_unicode=True), path=tmp_path / "config.yaml", env={})
    store = Store(cfg.storage_url)
    fetcher = Fetcher.from_config(cfg)
    return Pipeline(cfg, store, fetcher), store, fetcher, cfg


def test_field_case_nul_feed_is_stored_beside_a_healthy_one(tmp_path, store_url, web_server):
    art = saudinewsnet_articles(limit=1)[0]
    page = article_page(art["title"], split_paragraphs(art["content"]), outlet="O", url=web_server.url("/a.html"))
    web_server.routes.update(
        {
            "/nul.xml": FIXTURE.read_bytes().replace(
                b"http://127.0.0.1:45585", web_server.url("").rstrip("/").encode()
            ),
            "/a.html": page,
            "/b.html": page.replace(art["title"], art["title"] + " 2"),
            "/healthy.xml": rss([(art["title"] + " redteam", web_server.url("/h.html"), "h1")]),
            "/h.html": page.replace(art["title"], art["title"] + " 3"),
        }
    )
    pipeline, store, fetcher, cfg = _pipeline(tmp_path, store_url, web_server)
    try:
        for _ in range(2):  # a second poll finds nothing new and nothing failing
            reports = {f.name: pipeline.poll_feed(f) for f in cfg.feeds}
            assert reports["Healthy"].ok and reports["Nul"].ok, reports
        titles = {a.title for a in store.articles_since(SINCE)}
        assert "redteam nul  inside  title" in titles
        assert any("DROP TABLE articles" in t for t in titles)  # SQL-looking text is just text
        assert store.feed_state("Nul").consecutive_failures == 0
        assert len(web_server.requests_for("/a.html")) == 1  # stored once, not retried every poll
    finally:
        fetcher.close()
        store.close()
