"""redteam17b: a SIGKILL storm on a 3-node cluster, ending with every node killed and the
cluster restarted. Nothing lost, at most one duplicate per kill, each page fetched once
per kill at most (a poll cut mid-way is redone). Seeded, so a failure replays.

Public reports of the kind: procrastinate-org/procrastinate#307 (jobs of a SIGKILLed worker
left "doing" for ever), procrastinate-org/procrastinate#1408 (the stalled-job retrier itself
stalled: everything stops).
"""

from __future__ import annotations

import random
import signal
import time

import pytest

from tests.support.cluster import alerts, cluster_config, covering_terms, grow, node_logs, site, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import SAFETY, wait_until

pytestmark = pytest.mark.acceptance

FEEDS, NODES = 4, 3


@pytest.mark.parametrize("seed", [17, 1717])
def test_sigkill_storm_then_all_killed_and_restarted(tmp_path, web_server, fake_telegram_unpatched, seed):
    web, telegram = web_server, fake_telegram_unpatched
    rng = random.Random(seed)
    arts, per_feed, first_pages = site(web, FEEDS)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(FEEDS)]
        config = cluster_config(
            tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, cluster_stall_after="3s"
        )
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(NODES)]
        everyone = list(nodes)
        kills = 0
        try:
            pages = grow(web, per_feed)  # new items arrive while the storm goes on
            for _ in range(6):
                time.sleep(rng.uniform(0.2, 1.5))
                i = rng.randrange(NODES)
                nodes[i].send_signal(signal.SIGKILL)
                nodes[i].wait(SAFETY)
                kills += 1
                nodes[i] = start_node(config, f"n{i}", tmp_path / f"n{i}.log")
                everyone.append(nodes[i])
            time.sleep(rng.uniform(0.5, 1.5))
            for p in nodes:  # every node at once
                p.send_signal(signal.SIGKILL)
                p.wait(SAFETY)
                kills += 1
            nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(NODES)]
            everyone += nodes
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert after the storm")
            time.sleep(8)
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(everyone)
        logs = node_logs(tmp_path, NODES)
        assert alive == [None] * NODES, logs[-3000:]
        got = alerts(telegram, pages)
        dups = sum(n - 1 for n in got.values())
        assert dups <= kills, f"{kills} kills, {dups} duplicates: {got}"
        fetched = [len(web.requests_for(p.split(str(web.port), 1)[1])) for p in pages]
        print(
            f"seed={seed} kills={kills} alerts={sum(got.values())} pages={len(pages)} duplicates={dups} "
            f"fetches={sum(fetched)}"
        )
        assert sum(f - 1 for f in fetched) <= kills, f"{kills} kills, fetches {fetched}"
