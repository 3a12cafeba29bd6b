"""Red team 17c: story placement retries exhausted (placelock.MAX_ATTEMPTS conflicts) on the
real PostgreSQL: the item is retried and its alert goes out on the next poll (held up)."""

from __future__ import annotations

import pytest

import monitor.storage.stories as stories
from monitor.storage.placelock import PlacementConflict
from tests.support.cluster import covering_terms, sql
from tests.support.databases import fresh_pg_database
from tests.support.pipelines import feed_pipeline
from tests.support.service_helpers import articles, serve_feed

pytestmark = pytest.mark.integration


def test_placement_conflicts_exhausted_retry_the_item_and_lose_no_alert(tmp_path, web_server, monkeypatch):
    arts = articles("2015-07-21", 0, 2)
    serve_feed(web_server, "/main.xml", arts)
    with fresh_pg_database() as url:
        pipeline = feed_pipeline(tmp_path, url, [("main", web_server.url("/main.xml"))], covering_terms(arts))
        config = pipeline.config
        calls: list[int] = []

        def merged_away(*args, **kwargs):
            calls.append(1)
            raise PlacementConflict("stories merged meanwhile: [1]")

        try:
            with monkeypatch.context() as m:
                m.setattr(stories, "_cluster", merged_away)
                pipeline.poll_feed(config.feeds[0], force=True)
            first = (len(pipeline.store.list_alerts(limit=100)), sql(url, "SELECT count(*) FROM articles")[0][0])
            states = sorted(r[0] for r in sql(url, "SELECT state FROM items"))
            retry = sql(url, "SELECT attempts, next_try_at > now(), last_error FROM items")
            sql(url, "UPDATE items SET next_try_at = now() - interval '1 second'")  # the retry is due
            pipeline.poll_feed(config.feeds[0], force=True)
            after = sql(url, "SELECT state, reason_code FROM items")
            second = len(pipeline.store.list_alerts(limit=100))
        finally:
            pipeline.fetcher.close()
            pipeline.store.close()
    assert len(calls) >= 8  # every attempt conflicted
    assert first == (0, 0)  # nothing half-stored
    assert states == ["pending", "pending"]
    assert second == 2, (retry, after)
