"""Red team 17d: the tick (issue 17) when many feeds are due at once, on the real PostgreSQL.

#4 -- a tick deferred one job per due feed, a round trip each, and the due channels' sends
only after the last poll: 3,000 feeds due at once (a first start, the end of an outage, a
burst of feeds sharing an interval) made a 34 s tick on the shared 2-core machine, ticks
overlapping on every free slot meanwhile, and a matched alert's send queued 34 s late (the
takeover of a dead node's jobs too: it comes last). Same kind as
https://github.com/procrastinate-org/procrastinate/issues/1284 (one INSERT per `defer`,
slow for many jobs) and its fix https://github.com/procrastinate-org/procrastinate/pull/1382
(batch defers; a queueing-lock conflict refuses the whole batch).
Fixed: the sends first, then the polls, each in batches of DEFER_BATCH jobs a round trip; a
batch refused because a concurrent tick queued one of its jobs is sent again without it.
After the fix: the first tick of 3,000 due feeds 34 s -> 1.0 s (python3 /tmp/rt17d/tickbench.py
3000, in the report); two ticks at once 26 s -> 1.2 s.
"""

from __future__ import annotations

import asyncio

import pytest

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.storage import Store
from tests.integration.test_cluster_holds import CONFIG, _pending_alert
from tests.support.cluster import count_round_trips, sql
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

SIZES = [50, 400]  # due feeds: a tick's round trips must not grow with them


def _node(url: str, n: int, store: Store, fetcher: Fetcher) -> ClusterNode:
    feeds = ", ".join(f'{{name: F{i}, url: "http://127.0.0.1:9/f{i}"}}' for i in range(n))
    text = CONFIG.format(url=url, rate="1/s").replace('[{name: F, url: "http://127.0.0.1:9/feed"}]', f"[{feeds}]")
    assert f"F{n - 1}" in text
    return ClusterNode(Pipeline(parse_config(text, env={}), store, fetcher))


async def _first_tick(node: ClusterNode, ticks: int = 1) -> int:
    """procrastinate round trips of `ticks` concurrent first ticks (no job waits yet)."""
    async with node.app.open_async():
        poll, send = node.app.tasks["monitor.poll"], node.app.tasks["monitor.send"]
        calls = count_round_trips(node.app.connector)
        await asyncio.gather(*(node._tick(poll, send) for _ in range(ticks)))
        return calls()


def _run(n: int, ticks: int = 1) -> tuple[int, list[tuple]]:
    """(round trips, the jobs queued: (id, task, queueing lock)) of `ticks` concurrent first
    ticks of a node with `n` feeds due and an alert pending on channel tg."""
    with fresh_pg_database() as url:
        store = Store(url)
        fetcher = Fetcher(timeout=5.0, user_agent="monitor-test")
        try:
            node = _node(url, n, store, fetcher)
            _pending_alert(node)
            trips = asyncio.run(_first_tick(node, ticks))
            jobs = sql(url, "SELECT id, task_name, queueing_lock FROM procrastinate_jobs ORDER BY id") or []
        finally:
            fetcher.close()
            store.close()
    return trips, jobs


def test_a_first_tick_costs_no_round_trip_per_due_feed():
    trips = {n: _run(n)[0] for n in SIZES}
    assert trips[SIZES[-1]] <= trips[SIZES[0]] + 5, f"round trips of a first tick by due feeds: {trips}"


def test_a_due_send_is_queued_before_the_due_polls():
    _, jobs = _run(SIZES[-1])
    tasks = [task for _, task, _ in jobs]
    assert tasks.count("monitor.send") == 1 and tasks.count("monitor.poll") == SIZES[-1], tasks[:5]
    assert tasks[0] == "monitor.send", "the send was queued after every poll"


@pytest.mark.parametrize("ticks", [2, 3])
def test_ticks_at_once_queue_each_job_once(ticks):
    """Held before the fix too (a failing INSERT per job); kept for the batches' retry."""
    _, jobs = _run(SIZES[-1], ticks)
    locks = [lock for _, _, lock in jobs]
    assert len(locks) == len(set(locks)) == SIZES[-1] + 1
