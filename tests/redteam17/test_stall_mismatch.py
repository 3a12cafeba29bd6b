"""Red team (issue 17): two nodes whose configs differ only in `cluster_stall_after` (a
rolling config change: node B is restarted with the new value first, node A still runs
the old default of 30 s). Nobody dies.

Node A beats its procrastinate worker every 30/6 = 5 s; node B takes a worker silent for
3 s as dead. When B starts, its worker prunes A's worker row if A's last beat is more than
3 s old, and B's tick treats A's running send as stalled and hands it to the waiting copy
-- B resends what A is sending. Expected: no duplicate and no broken node while every
node is alive (the config check or the node could refuse a mismatch, or the stall rule
could use the beating node's own interval).
"""

from __future__ import annotations

import time

import pytest

from tests.redteam17.cluster_kit import alerts, grow, logs, site, stop
from tests.support.cluster import cluster_config, covering_terms, start_node
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance


def test_a_node_with_a_shorter_stall_timeout_does_not_take_live_work(tmp_path, web_server, fake_telegram_unpatched):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first = site(web)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(len(per_feed))]
        terms = covering_terms(arts)
        config_a = cluster_config(tmp_path / "a.yaml", db, feeds, terms, telegram.base_url)  # default 30s
        config_b = cluster_config(tmp_path / "b.yaml", db, feeds, terms, telegram.base_url, cluster_stall_after="3s")
        nodes = [start_node(config_a, "n0", tmp_path / "n0.log")]
        try:
            wait_until(lambda: set(alerts(telegram, first)) == set(first), "first alerts (node A alone)")
            nodes.append(start_node(config_b, "n1", tmp_path / "n1.log"))
            wait_until(lambda: "cluster node started" in (tmp_path / "n1.log").read_text(), "node B started")
            # a slow Bot API (3.5 s an answer, under apprise's 4 s read timeout): sends take a while
            telegram.queue(*[TelegramReply.slow(3.5) for _ in range(6)])
            pages = grow(web, per_feed)
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert")
            time.sleep(8)
            alive = [p.poll() for p in nodes]
        finally:
            stop(nodes)
        out = logs(tmp_path, 2)
        got = alerts(telegram, pages)
        trouble = [
            line for line in out.splitlines() if "stalled job" in line or "lease lost" in line or "worker ended" in line
        ]
        fetches = {
            p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1]: len(
                web.requests_for(p.split("127.0.0.1", 1)[1].split("/", 1)[1].join(["/", ""]))
            )
            for p in pages
        }
        assert alive == [None, None], out[-2000:]
        assert max(got.values()) == 1 and not trouble, (
            f"no node died, yet duplicates {dict((u.rsplit('/', 2)[-2] + '/' + u.rsplit('/', 1)[-1], n) for u, n in got.items() if n > 1)}"
            f", page fetches {fetches} and takeovers of live work:\n" + "\n".join(trouble)
        )
