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

Fixed (service/cluster.py): polls are on their own queue and a node runs POLL_SLOTS of them
at most, in its own threads; OTHER_SLOTS slots and the default executor stay free for the
tick, sends and prune. Rows: hanging polls on one node or on every node, pages that never
answer, answer slowly, or time out one after another, and a send slow on its rate wait.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import yaml

from monitor.service.cluster import POLL_SLOTS, SLOTS
from tests.support.cluster import alerts, cluster_config, covering_terms, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import articles, serve_feed, wait_until
from tests.support.site import rss
from tests.support.web import Request, Response

pytestmark = pytest.mark.acceptance

SLOW = 90.0  # seconds a "slow" page takes to answer: far beyond the alerts' way out with free slots


@dataclass(frozen=True)
class Load:
    """Feeds whose first page answers at once (matched: an alert) and whose next pages hang."""

    cluster: bool = True
    nodes: int = 1
    feeds: int = SLOTS  # hanging feeds: every worker slot of one node
    pages: int = 1  # hanging pages each feed lists after its first
    mode: str = "never"  # never: answer at the end; slow: after SLOW s; timeout: never, the fetch times out
    rate: str = "50/s"  # the channel's rate limit


LOADS = [
    pytest.param(Load(cluster=False, feeds=8), id="single-node-holds"),
    # procrastinate#292: the periodic job waits while long sync tasks fill the one worker
    pytest.param(Load(), id="one-node-every-slot-never-answers-procrastinate#292"),
    # huey#547: as many long tasks as workers (8 of 8), nothing else runs; here on every node
    pytest.param(Load(nodes=2, feeds=2 * SLOTS), id="every-node-every-slot-huey#547"),
    pytest.param(Load(nodes=2), id="one-node-worth-on-two-nodes"),
    # saleor/saleor#16507: short tasks stuck behind long ones a worker took first
    pytest.param(Load(mode="slow"), id="slow-answers-saleor#16507"),
    # celery/celery#3434: a task that never ends, and quick tasks never given a free process
    pytest.param(Load(pages=30, mode="timeout"), id="pages-time-out-one-after-another-celery#3434"),
    pytest.param(Load(rate="1/s"), id="send-waits-on-its-rate-in-slot"),
    pytest.param(Load(rate="1/3s"), id="send-held-for-its-rate-tick-requeues"),
]


def _fetched(web, pages: list[str], least: int) -> list[str] | None:
    """Those of `pages` fetched, once at least `least` were (matched: each an alert stored)."""
    got = [p for p in pages if web.requests_for(urlsplit(p).path)]
    return got if len(got) >= least else None


@pytest.mark.parametrize("load", LOADS)
def test_alerts_go_out_while_polls_hang_on_a_slow_site(tmp_path, web_server, fake_telegram_unpatched, load):
    web, telegram = web_server, fake_telegram_unpatched
    arts = articles("2015-07-21", 0, 2 * load.feeds)
    gate = threading.Event()  # the hanging pages answer once it is set (at the end)
    answered = threading.Event()  # a hanging page answered: a poll may have ended

    def hang(request: Request) -> Response:
        if not gate.wait(SLOW if load.mode == "slow" else None):
            answered.set()
        return Response(404, b"gone")

    first: list[str] = []
    hanging: list[list[str]] = []
    for i in range(load.feeds):
        pages = serve_feed(web, f"/h{i}.xml", arts[2 * i : 2 * i + 2])
        first.append(pages[0])  # answers at once, matched: an alert
        slow = [pages[1]] + [web.url(f"/h{i}/slow-{k}.html") for k in range(load.pages - 1)]
        items = [(arts[2 * i]["title"], pages[0], f"h{i}-0")]
        items += [(f"{arts[2 * i + 1]['title']} {k}", url, f"h{i}-slow-{k}") for k, url in enumerate(slow)]
        web.routes[f"/h{i}.xml"] = Response(200, rss(items), {"Content-Type": "application/rss+xml"})
        for url in slow:
            web.routes[urlsplit(url).path] = hang
        hanging.append(slow)

    def polls_running() -> bool:
        """No hanging page answered, and every feed still has a hanging page not asked for yet."""
        asked = lambda urls: sum(bool(web.requests_for(urlsplit(u).path)) for u in urls)  # noqa: E731
        return not answered.is_set() and all(asked(urls) < len(urls) or load.pages == 1 for urls in hanging)

    try:
        with fresh_pg_database() as db:
            feeds = [(f"H{i}", web.url(f"/h{i}.xml")) for i in range(load.feeds)]
            config = cluster_config(tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url)
            body = yaml.safe_load(config.read_text(encoding="utf-8"))
            body["cluster"] = load.cluster
            body["defaults"]["timeout"] = "2s" if load.mode == "timeout" else "600s"
            body["defaults"]["interval"] = 600
            body["channels"]["telegram"]["rate"] = load.rate
            body["fetch"].update(max_per_host=4 * load.feeds, max_connections=4 * load.feeds)  # no fetch limit waits
            config.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
            nodes = [start_node(config, f"n{n}", tmp_path / f"n{n}.log") for n in range(load.nodes)]
            try:
                # as many polls as the nodes run at once now hang on a page
                least = min(POLL_SLOTS * load.nodes, load.feeds) // 2
                fetched = wait_until(lambda: _fetched(web, first, least), "polls that fetched their first page")
                assert isinstance(fetched, list)
                wait_until(lambda: set(alerts(telegram, fetched)) == set(fetched), "the alerts of the pages fetched")
                assert polls_running(), "the alerts went out only once a poll ended"
            finally:
                gate.set()
                stop_nodes(nodes)
    finally:
        gate.set()
