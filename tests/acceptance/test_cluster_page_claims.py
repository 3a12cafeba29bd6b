"""Cluster mode, page claims (issue 17; red team 17b #2): two feeds that list the same
articles, polled at once by two nodes or by one node's concurrent jobs, and a node frozen
mid-poll. A page is claimed (storage/claims.py) before it is fetched, so each is fetched
once; tests/integration/test_page_claims.py has the claim's table and the single-node
(threads, SQLite and PostgreSQL) variants.

- same_url: both feeds list the same article URLs (an outlet's main feed and its section feed).
  Each page should be fetched once and alerted once cluster-wide (emacs-elfeed/elfeed#391:
  category feeds of one site share entries; miniflux/v2#797: one entry in several feeds).
- copy: the same story text served at two URLs (a wire story syndicated on two sites), the
  copies arriving on two nodes in the same instant: the copy detection must keep one alert.

Each page answers slowly (1 s) so the two polls overlap.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.support.cluster import cluster_config, covering_terms, job_holder, node_logs, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import articles, serve_feed, wait_until

pytestmark = pytest.mark.acceptance

N = 4  # real articles


def _per_story(telegram, pages_a: list[str], pages_b: list[str]) -> list[int]:
    """Alerts naming story i (its URL on site A, or its copy's on site B)."""
    return [
        sum(a in m.text or (bool(pages_b) and pages_b[i] in m.text) for m in telegram.messages)
        for i, a in enumerate(pages_a)
    ]


@pytest.mark.parametrize(
    ("variant", "n_nodes"),
    [
        pytest.param("same_url", 1, id="same_url-1node"),
        pytest.param("same_url", 2, id="same_url-2nodes"),
        pytest.param("copy", 2, id="copy-2nodes"),
    ],
)
def test_two_feeds_one_story_two_nodes(tmp_path, web_server, fake_telegram_unpatched, variant, n_nodes):
    web, telegram = web_server, fake_telegram_unpatched
    arts = articles("2015-07-21", 0, N)
    pages_a = serve_feed(web, "/a.xml", arts, delay=1.0)
    if variant == "same_url":
        web.routes["/b.xml"] = web.routes["/a.xml"]
        pages_b: list[str] = []
    else:
        pages_b = serve_feed(web, "/b.xml", arts, delay=1.0)
    with fresh_pg_database() as db:
        feeds = [("A", web.url("/a.xml")), ("B", web.url("/b.xml"))]
        config = cluster_config(tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url)
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(n_nodes)]
        try:
            wait_until(lambda: all(n >= 1 for n in _per_story(telegram, pages_a, pages_b)), "every story alerted")
            time.sleep(10)  # several more polls; late duplicates show up now
        finally:
            stop_nodes(nodes)
        logs = "\n".join((tmp_path / f"n{i}.log").read_text() for i in range(n_nodes))
        fetched = {p: len(web.requests_for(p.split(str(web.port), 1)[1])) for p in pages_a + pages_b}
        per_story = _per_story(telegram, pages_a, pages_b)
        assert per_story == [1] * N, f"alerts per story {per_story}; fetches {fetched}\n{logs[-3000:]}"
        if variant == "same_url":
            assert set(fetched.values()) == {1}, f"pages fetched more than once: {fetched}"


def test_a_thawed_poller_refetches_at_most_one_page(tmp_path, web_server, fake_telegram_unpatched):
    """A node frozen (SIGSTOP) past the stall timeout mid-poll (its pages answer slowly), its
    poll taken over, then thawed: a freeze is at most a "kill", so at most one page fetched
    again (the frozen node's claim is given up on after CLAIM_WAIT), every alert once.
    celery/celery#3270, celery/celery#5935, procrastinate-org/procrastinate#740."""
    web, telegram = web_server, fake_telegram_unpatched
    arts = articles("2015-07-21", 0, N)
    pages = serve_feed(web, "/f0.xml", arts, delay=2.0)
    paths = [p.split(str(web.port), 1)[1] for p in pages]
    with fresh_pg_database() as db:
        config = cluster_config(
            tmp_path / "config.yaml",
            db,
            [("F0", web.url("/f0.xml"))],
            covering_terms(arts),
            telegram.base_url,
            cluster_stall_after="4s",
        )
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(2)]
        try:
            wait_until(lambda: any(web.requests_for(p) for p in paths), "a page fetch")
            frozen = nodes[int(wait_until(lambda: job_holder(db, tmp_path, 2, "monitor.poll"), "the polling node"))]
            frozen.send_signal(signal.SIGSTOP)
            wait_until(lambda: "stalled job " in node_logs(tmp_path, 2), "the takeover")
            wait_until(lambda: all(any(p in m.text for m in telegram.messages) for p in pages), "every alert")
            frozen.send_signal(signal.SIGCONT)
            time.sleep(15)  # the thawed poll goes on now
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(nodes)
        logs = node_logs(tmp_path, 2)
        assert alive == [None, None], logs[-3000:]
        per_page = [sum(p in m.text for m in telegram.messages) for p in pages]
        fetched = [len(web.requests_for(p)) for p in paths]
        assert per_page == [1] * N, f"alerts per page {per_page}"
        assert sum(f - 1 for f in fetched) <= 1, f"one freeze, fetches per page {fetched}"
