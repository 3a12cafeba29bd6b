"""Cluster mode (issue 17): a node's stop is bounded when its PostgreSQL connections stop
answering (half-open: the server side hangs, a NAT entry is dropped, a VM freezes; the
kernel still takes what the node sends, nothing comes back, no error ever).

The store and procrastinate reach PostgreSQL through a TCP proxy on loopback
(tests/support/tcpproxy.py) that freezes. Same kind as public reports (rebuilt here, no
text copied): procrastinate-org/procrastinate#1596 (closes #1513: a worker whose database
connection stops answering can never be stopped), porsager/postgres#1089 (an insert on a
half-open connection awaits forever), psycopg/psycopg2#112 (queries stuck for good in
PQgetResult).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.service.daemon import run
from monitor.storage import Store
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import SAFETY, wait_until
from tests.support.tcpproxy import FreezingProxy
from tests.support.web import Response

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: true
cluster_stall_after: 3s
defaults: {{interval: 1, jitter: 0, timeout: 10s}}
fetch: {{allow_private_networks: true}}
feeds: [{{name: F, url: "{feed}"}}]
channels: {{tg: "tgram://1:x/2"}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""

STOP_TIMEOUT = 2.0  # seconds the node gives in-flight work on a stop (the daemon's stop_timeout)

# (case, seconds the feed takes to answer: a poll job is in flight when the proxy freezes)
FREEZES = [
    ("frozen while the node idles between ticks", 0.0),
    ("frozen while a poll job waits on its feed", 3.0),
]


def _workers(url: str) -> int:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("case,feed_delay", FREEZES, ids=[c[0] for c in FREEZES])
def test_stop_is_bounded_when_the_store_stops_answering(web_server, case, feed_delay):
    web_server.routes["/feed"] = Response(200, b"<rss><channel></channel></rss>", delay=feed_delay)
    with fresh_pg_database() as url, FreezingProxy(5432) as proxy:
        via = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        config = parse_config(CONFIG.format(url=via, feed=web_server.url("/feed")), env={})
        store = Store(via)
        fetcher = Fetcher(timeout=10.0, user_agent="monitor-test", allow_private_networks=True)
        stop = threading.Event()
        result: list[int] = []
        node = threading.Thread(
            target=lambda: result.append(
                run(Pipeline(config, store, fetcher), stop, cls=ClusterNode, stop_timeout=STOP_TIMEOUT)
            ),
            daemon=True,
        )
        node.start()
        wait_until(lambda: _workers(url), "the node's worker registered")
        if feed_delay:
            polls = len(web_server.requests_for("/feed"))
            wait_until(lambda: len(web_server.requests_for("/feed")) > polls, "a poll in flight")
        else:
            time.sleep(1.5)  # a tick or two
        proxy.freeze()
        stop.set()
        node.join(SAFETY)
        stuck = node.is_alive()
        proxy.close()  # frees whatever still waits on a frozen socket
        fetcher.close()
        assert not stuck, f"{case}: the stop hung on a silent store"
        assert result in ([0], [3]), case
