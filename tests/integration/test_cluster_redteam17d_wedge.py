"""Red team 17d: /healthz of a cluster node whose every poll hangs (issue 17), on the real
PostgreSQL with a real node (in-process) and a loopback site.

#6 -- single-node mode reports a wedged daemon ("N feed jobs running, none finished for
Ns": /healthz 503, the systemd watchdog starved) from its scheduler's job events; a cluster
node's polls are procrastinate jobs that never reach that bookkeeping, so a node whose polls
all hang (a tarpit, a DNS or a store hang) answers "ok" and feeds the watchdog for ever.
Same kind as https://github.com/graphile/worker/issues/253 (a Postgres job worker hung with
every job, no log, nothing said) and https://github.com/bobmatnyc/trusty-tools/pull/4225 (a
health check that looked at the process, not at its worker pool, said HEALTHY while every
worker hung). Fixed: a poll job counts as running for that check while it runs.
"""

from __future__ import annotations

import threading

import pytest

from monitor.cli.common import make_fetcher
from monitor.config.load import parse_config
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.service.daemon import Daemon
from monitor.storage import Store
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import wait_until
from tests.support.web import Request, Response

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: {cluster}
defaults: {{interval: 600, jitter: 0, timeout: 600s}}
fetch: {{allow_private_networks: true}}
feeds: [{{name: H, url: "{feed}"}}]
channels: {{tg: {{urls: "tgram://1:x/2"}}}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""

ROWS = [pytest.param(False, id="single-node-holds"), pytest.param(True, id="cluster")]


@pytest.mark.parametrize("cluster", ROWS)
def test_a_node_whose_polls_all_hang_is_not_healthy(monkeypatch, web_server, cluster):
    monkeypatch.setenv("MONITOR_NODE", "wedged")
    gate = threading.Event()

    def hang(request: Request) -> Response:
        gate.wait()
        return Response(404, b"gone")

    web_server.routes["/feed.xml"] = hang
    with fresh_pg_database() as url:
        text = CONFIG.format(url=url, cluster=str(cluster).lower(), feed=web_server.url("/feed.xml"))
        config = parse_config(text, env={})
        store, fetcher = Store(url), make_fetcher(config)
        cls = ClusterNode if cluster else Daemon
        node = cls(Pipeline(config, store, fetcher), stall_after=1.0, stop_timeout=5.0)
        try:
            node.start()
            wait_until(lambda: web_server.requests_for("/feed.xml"), "the poll's request")
            healthy = wait_until(lambda: not node.health()[0] or None, "a wedge reported")
            assert healthy is True
            assert "feed jobs running" in node.health()[1]["progress"]
        finally:
            gate.set()
            node.stop()
            fetcher.close()
            store.close()
