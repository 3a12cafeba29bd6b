"""Red team 17e #4: poll jobs an older node queued on ``monitor`` (before polls had their own
queue, ``monitor.poll``) during a rolling upgrade, on the real PostgreSQL with a real node
(in-process) and a loopback site whose feeds hang.

A node runs POLL_SLOTS polls at most by fetching from ``monitor`` alone while that many run
(service/cluster.py ``_poll_slot``); but a poll job on ``monitor`` itself (an older node's
tick queued it: README "Upgrading a cluster" keeps old nodes running) is fetched from that
queue whatever the count: polls hanging on slow pages then took every one of the node's
SLOTS, and the tick and the sends waited for them (the redteam17d #2 starvation back).
Fixed: a poll job fetched from `monitor` while POLL_SLOTS polls run is handed to
the poll queue. Same kind as https://github.com/procrastinate-org/procrastinate/issues/292 (long jobs filled
every worker slot and starved the periodic ones).
"""

from __future__ import annotations

import json
import threading

import pytest

from monitor.cli.common import make_fetcher
from monitor.config.load import parse_config
from monitor.pipeline import Pipeline
from monitor.service.cluster import POLL_SLOTS, SLOTS, ClusterNode
from monitor.storage import Store
from tests.support.cluster import sql
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import wait_until
from tests.support.web import Request, Response

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: true
defaults: {{interval: 600, jitter: 0, timeout: 600s}}
fetch: {{allow_private_networks: true}}
feeds: {feeds}
channels: {{tg: {{urls: "tgram://1:x/2"}}}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""

OLD_WAITING = (
    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'monitor.poll' AND queue_name = 'monitor' "
    "AND status = 'todo'"
)


def polls(node: ClusterNode) -> int:
    """Polls running on `node` now (the keys its wedge check counts: a poll job handing an
    old job over to the poll queue is not one)."""
    return sum(1 for key in dict(node._running) if key.startswith("feed:"))


# (case, polls an older node queued on `monitor`)
ROWS = [
    ("old polls fill the other slots (procrastinate#292)", SLOTS - POLL_SLOTS),
    ("one old poll over the poll slots", 1),
]


@pytest.mark.parametrize("case,old", ROWS, ids=[r[0] for r in ROWS])
def test_polls_an_older_node_queued_never_take_the_ticks_slots(monkeypatch, web_server, case, old):
    monkeypatch.setenv("MONITOR_NODE", "upgraded")
    gate = threading.Event()

    def hang(request: Request) -> Response:
        gate.wait()
        return Response(404, b"gone")

    names = [f"F{i}" for i in range(POLL_SLOTS + old)]
    for name in names:
        web_server.routes[f"/{name}.xml"] = hang
    feeds = json.dumps([{"name": n, "url": web_server.url(f"/{n}.xml")} for n in names])
    with fresh_pg_database() as url:
        config = parse_config(CONFIG.format(url=url, feeds=feeds), env={})
        store, fetcher = Store(url), make_fetcher(config)
        node = ClusterNode(Pipeline(config, store, fetcher), stall_after=30.0, stop_timeout=5.0)
        ticks: list[int] = []
        tick = node._tick

        async def counted(*args: object) -> None:
            ticks.append(polls(node))
            await tick(*args)

        monkeypatch.setattr(node, "_tick", counted)
        try:
            node.start()
            wait_until(lambda: polls(node) >= POLL_SLOTS, "the node's poll slots taken")
            # meanwhile an older node's tick queued the other feeds' polls on `monitor`
            sql(
                url,
                "UPDATE procrastinate_jobs SET queue_name = 'monitor' WHERE task_name = 'monitor.poll' "
                "AND status = 'todo' AND args->>'feed' = ANY(%s)",
                names[POLL_SLOTS:],
            )
            ticks.clear()

            def settled() -> int | None:
                doing = polls(node)
                if doing > POLL_SLOTS:
                    return doing
                # every feed's poll handed out or waiting on the poll queue, and the tick still runs
                if doing == POLL_SLOTS and not sql(url, OLD_WAITING)[0][0] and ticks.count(POLL_SLOTS) >= 2:
                    return doing
                return None

            got = wait_until(settled, "the tick running again while the polls hang (starved: every slot taken)")
            assert got == POLL_SLOTS, case
        finally:
            gate.set()
            node.stop()
            fetcher.close()
            store.close()
