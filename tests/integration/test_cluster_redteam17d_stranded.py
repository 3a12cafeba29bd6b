"""Red team 17d: a channel removed from the config while alerts to it wait (issue 17), with a
real node (in-process) on the real PostgreSQL.

#7 -- README: an alert whose channel is renamed or removed is stranded, "and the log says
`alerts stranded ... OPERATOR ACTION NEEDED`". Single-node mode says so at start and on each
reload (its senders start then); a cluster node starts no sender threads and never said it:
the alerts waited silently, on every node. Same kind as
https://github.com/moira-alert/notifier/issues/2 (notifications for a contact type renamed in
the config, left queued) and https://github.com/Icinga/icinga2/issues/1956 (notifications not
sent must at least be logged). Fixed: a cluster node warns at start and on reload too.
"""

from __future__ import annotations

import logging

import pytest

from monitor.cli.common import make_fetcher
from monitor.config.load import parse_config
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.service.daemon import Daemon
from monitor.storage import Store
from tests.support.cluster import sql
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: {cluster}
defaults: {{interval: 600, jitter: 0}}
feeds: [{{name: F, url: "http://127.0.0.1:9/feed"}}]
channels: {{tg: {{urls: "tgram://1:x/2"}}}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""


@pytest.mark.parametrize("cluster", [False, True], ids=["single-node-holds", "cluster"])
def test_alerts_of_a_removed_channel_are_logged_at_start_and_reload(monkeypatch, caplog, cluster):
    monkeypatch.setenv("MONITOR_NODE", "n")
    with fresh_pg_database() as url:
        text = CONFIG.format(url=url, cluster=str(cluster).lower())
        config = parse_config(text, env={})
        store, fetcher = Store(url), make_fetcher(config)
        (article,) = sql(  # type: ignore[misc]
            url,
            "INSERT INTO articles (url, url_key, feed, outlet, guid, title, body, status, fetch_attempts, text_source) "
            "VALUES ('http://a/1', 'k1', 'F', '', '', 't', 'x', 'done', 0, '') RETURNING id",
        )
        sql(
            url,
            "INSERT INTO alerts (article_id, topic_id, channel, subject, text, html, status, attempts, created_at, "
            "delivered) VALUES (%s, 't', 'old-chat', 's', 'x', 'x', 'pending', 0, now(), '')",
            article[0],
        )
        cls = ClusterNode if cluster else Daemon
        node = cls(Pipeline(config, store, fetcher), load=lambda: parse_config(text, env={}), stop_timeout=5.0)
        caplog.set_level(logging.WARNING, logger="monitor.delivery.outbox")
        try:
            node.start()
            started = caplog.text.count("alerts stranded channel=old-chat count=1")
            assert node.reload()
            reloaded = caplog.text.count("alerts stranded channel=old-chat count=1")
        finally:
            node.stop()
            fetcher.close()
            store.close()
    assert (started, reloaded) == (1, 2), caplog.text[-2000:]
