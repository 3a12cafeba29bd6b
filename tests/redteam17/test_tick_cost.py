"""Red team (issue 17): does the 1-second tick become the bottleneck with many feeds?

Every tick (once a second across the cluster) defers one ``monitor.poll`` per due feed,
one database round trip each, and catches ``AlreadyEnqueued`` when a copy already waits
(service/cluster.py ``_tick``). When the cluster lags (start-up, a slow outlet, a dead
node, more feeds than the workers poll in an interval) every feed stays due with its job
waiting, and each tick still makes one failing INSERT per feed: measured here
(three `_tick` calls on 500 feeds, the shared 2-core machine at load ~5) 0.8-3.3 s per
tick for 500 feeds. The tick has no lock (by design, procrastinate #1408), so ticks
longer than a second overlap and take several of a node's 8 job slots.

Expected: a tick when every due feed already has a waiting job costs a bounded number of
round trips (e.g. one query of the waiting queueing locks, then defers of only the
missing ones), not one per feed. Counted on procrastinate's connector, no clock.
"""

from __future__ import annotations

import asyncio

import pytest

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.storage import Store
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: true
feeds: [{feeds}]
channels: {{tg: "tgram://1:x/2"}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""


async def _second_tick_round_trips(node: ClusterNode) -> int:
    async with node.app.open_async():
        poll, send = node.app.tasks["monitor.poll"], node.app.tasks["monitor.send"]
        await node._tick(poll, send)  # queues a poll per feed (no worker runs them)
        connector = node.app.connector
        calls = 0
        for name in ("execute_query_one_async", "execute_query_all_async", "execute_query_async"):
            real = getattr(connector, name)

            def counted(*args, __real=real, **kwargs):  # type: ignore[no-untyped-def]
                nonlocal calls
                calls += 1
                return __real(*args, **kwargs)

            setattr(connector, name, counted)
        await node._tick(poll, send)  # every feed still due, every job already waiting
        return calls


# (feeds) -- the round trips of the second tick must not grow with the feed count
SIZES = [50, 400]


def test_a_lagging_clusters_tick_costs_no_round_trip_per_feed():
    trips = {}
    for n in SIZES:
        feeds = ", ".join(f'{{name: F{i}, url: "http://127.0.0.1:9/f{i}"}}' for i in range(n))
        with fresh_pg_database() as url:
            config = parse_config(CONFIG.format(url=url, feeds=feeds), env={})
            store = Store(url)
            fetcher = Fetcher(timeout=5.0, user_agent="monitor-test")
            try:
                trips[n] = asyncio.run(_second_tick_round_trips(ClusterNode(Pipeline(config, store, fetcher))))
            finally:
                fetcher.close()
                store.close()
    assert trips[SIZES[-1]] <= trips[SIZES[0]] + 5, f"round trips of one tick by feed count: {trips}"
