"""Red team 17c: page claims (storage/claims.py) against the real PostgreSQL."""

from __future__ import annotations

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from tests.support.cluster import covering_terms, sql
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import articles, serve_feed

pytestmark = pytest.mark.integration


@pytest.mark.xfail(
    strict=True,
    reason="redteam17c #3: a page claim is an idle-in-transaction connection for the whole page fetch; a "
    "server with idle_in_transaction_session_timeout (common on managed PostgreSQL) kills it and the "
    "item fails at the claim's commit (StoreError, retried, 'feed oddities'); the claim is freed mid-fetch",
)
def test_a_slow_page_under_idle_in_transaction_timeout_is_stored(tmp_path, web_server):
    arts = articles("2015-07-21", 0, 2)
    pages = serve_feed(web_server, "/main.xml", arts, delay=2.0)
    with fresh_pg_database() as url:
        name = url.rsplit("/", 1)[1]
        sql(url, f"ALTER DATABASE {name} SET idle_in_transaction_session_timeout = '1s'")
        text = yaml.safe_dump(
            {
                "storage": url,
                "defaults": {"backfill": "off"},
                "fetch": {"allow_private_networks": True},
                "feeds": [{"name": "main", "url": web_server.url("/main.xml")}],
                "channels": {"mail": "json://127.0.0.1:9/"},
                "topics": [{"id": "t", "name": "T", "any": covering_terms(arts), "notify": ["mail"]}],
            },
            allow_unicode=True,
        )
        config = parse_config(text, path=tmp_path / "config.yaml", env={})
        pipeline = Pipeline(config, Store(config.storage_url), Fetcher.from_config(config))
        try:
            pipeline.poll_feed(config.feeds[0], force=True)
            alerts = len(pipeline.store.list_alerts(limit=100))
            errors = sql(url, "SELECT state, last_error FROM items WHERE last_error IS NOT NULL")
        finally:
            pipeline.fetcher.close()
            pipeline.store.close()
    assert len(pages) == 2
    assert alerts == 2  # the articles and alerts are stored (another connection) ...
    assert errors == []  # ... but each item failed at the claim's commit and is retried
