"""Red team 17d: cluster mode (issue 17) with real `monitor run` nodes on the real PostgreSQL.

#2 -- long polls take every worker slot: alerts wait for a poll to end. A poll job works up
to 100 new items one page at a time, each page up to `defaults.timeout` (30 s): a slow or
tarpitting outlet keeps a poll running for minutes. procrastinate runs our sync jobs in the
event loop's default executor (min(32, CPUs + 4) threads: 6 on 2 cores) and the node has 8
slots; once that many polls hang, the tick (its `asyncio.to_thread`) and every send wait
behind them, so an alert already matched and stored is not sent until a poll ends, on
every node so loaded. README: "a node's free worker slot takes the tick first, then sends,
then polls, so a backlog of polls never holds alerts back". Single-node mode sends from
its own thread per channel: the same load holds there (the first row).
Same kind as procrastinate#292 (the periodic job waits behind long tasks filling the
worker) and huey#547 (8 long tasks on 8 workers: nothing else runs), which red team 17's
#2 fixed for sends waiting on a rate limit, not for polls.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.cluster import alerts, cluster_config, covering_terms, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import articles, serve_feed, wait_until
from tests.support.web import Request, Response

pytestmark = pytest.mark.acceptance

HANGING = 8  # feeds whose second page hangs: every worker slot of one node


def _fetched(web, pages: list[str], least: int) -> list[str] | None:
    """Those of `pages` fetched, once at least `least` were (matched: each an alert stored)."""
    got = [p for p in pages if web.requests_for(urlsplit(p).path)]
    return got if len(got) >= least else None


SLOT_ROWS = [
    pytest.param(False, id="single-node-holds"),
    pytest.param(
        True,
        id="cluster",
        marks=pytest.mark.xfail(
            strict=True,
            reason="redteam17d #2: polls hanging on slow pages take every worker slot and executor "
            "thread; the tick and the sends wait, matched alerts are not sent until a poll ends",
        ),
    ),
]


@pytest.mark.parametrize("cluster", SLOT_ROWS)
def test_alerts_go_out_while_every_slot_polls_a_slow_site(tmp_path, web_server, fake_telegram_unpatched, cluster):
    web, telegram = web_server, fake_telegram_unpatched
    arts = articles("2015-07-21", 0, 2 * HANGING)
    gate = threading.Event()  # the slow pages answer once it is set (at the end)

    def slow(request: Request) -> Response:
        gate.wait()
        return Response(404, b"gone")

    first: list[str] = []
    for i in range(HANGING):
        pages = serve_feed(web, f"/h{i}.xml", arts[2 * i : 2 * i + 2])
        first.append(pages[0])  # answers at once, matched: an alert
        web.routes[urlsplit(pages[1]).path] = slow
    try:
        with fresh_pg_database() as db:
            feeds = [(f"H{i}", web.url(f"/h{i}.xml")) for i in range(HANGING)]
            config = cluster_config(tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url)
            body = yaml.safe_load(config.read_text(encoding="utf-8"))
            body["cluster"] = cluster
            body["defaults"]["timeout"] = "600s"  # the slow pages hang for the whole test
            body["defaults"]["interval"] = 600
            body["fetch"].update(
                max_per_host=4 * HANGING, max_connections=4 * HANGING
            )  # one site: no fetch limit waits
            config.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
            nodes = [start_node(config, "n0", tmp_path / "n0.log")]
            try:
                # as many polls as the node runs at once (slots, executor threads) now hang on a page
                fetched = wait_until(lambda: _fetched(web, first, HANGING // 2), "polls that fetched their first page")
                assert isinstance(fetched, list)
                wait_until(lambda: set(alerts(telegram, fetched)) == set(fetched), "the alerts of the pages fetched")
            finally:
                gate.set()
                stop_nodes(nodes)
    finally:
        gate.set()
