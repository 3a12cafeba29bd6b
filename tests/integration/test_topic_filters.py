"""Per-topic feed and language filters through the real pipeline: real HTTP server on
127.0.0.1 serving the seed reports and Russia-only corpus articles, real SQLite store."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import text

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store

ROOT = Path(__file__).resolve().parents[2]


def test_topics_only_see_their_feeds_and_languages(tmp_path, site):
    web, expected = site
    shipped = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["topics"][0]
    base = {k: v for k, v in shipped.items() if k not in ("id", "notify")}
    config = parse_config(
        yaml.safe_dump(
            {
                "storage": f"sqlite:///{tmp_path / 'm.db'}",
                "feeds": [
                    {"name": "Outlet A", "url": web.url("/feed-a.xml")},
                    {"name": "Outlet B", "url": web.url("/feed-b.xml")},
                ],
                "channels": {"log": "json://127.0.0.1:9/x"},
                "topics": [
                    {**base, "id": "all-feeds", "notify": ["log"]},
                    {**base, "id": "feed-a-only", "feeds": ["Outlet A"], "notify": ["log"]},
                    {**base, "id": "english-only", "languages": ["en"], "notify": ["log"]},
                ],
            },
            allow_unicode=True,
        ),
        path=tmp_path / "config.yaml",
    )
    store = Store(config.storage_url)
    fetcher = Fetcher(timeout=10, user_agent="test", allow_private_networks=True)
    try:
        pipeline = Pipeline(config, store, fetcher)
        for feed in config.feeds:
            assert pipeline.poll_feed(feed).ok
        with store.engine.begin() as conn:
            rows = conn.execute(
                text("SELECT m.topic_id, a.url FROM matches m JOIN articles a ON a.id = m.article_id")
            ).all()
    finally:
        fetcher.close()
        store.close()
    by_topic: dict[str, set[str]] = {}
    for topic_id, url in rows:
        by_topic.setdefault(topic_id, set()).add(url)
    assert by_topic["all-feeds"] == set(expected)  # the three seed reports
    assert by_topic["feed-a-only"] == set(expected[:2])  # the two served by Outlet A
    assert "english-only" not in by_topic  # Arabic articles
