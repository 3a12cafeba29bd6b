"""redteam17b: two feeds that list the same articles, polled by two nodes at once.

- same_url: both feeds list the same article URLs (an outlet's main feed and its section feed).
  Each page should be fetched once and alerted once cluster-wide (emacs-elfeed/elfeed#391:
  category feeds of one site share entries; miniflux/v2#797: one entry in several feeds).
- copy: the same story text served at two URLs (a wire story syndicated on two sites), the
  copies arriving on two nodes in the same instant: the copy detection must keep one alert.

Each page answers slowly (1 s) so the two polls overlap.
"""

from __future__ import annotations

import time

import pytest

from tests.support.cluster import cluster_config, covering_terms, start_node, stop_nodes
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


XFAIL_FETCH = pytest.mark.xfail(
    strict=True,
    reason="redteam17b #2: two feeds listing the same article URLs, polled at once, fetch every page "
    "twice (the alert stays single): nothing claims a page URL before its fetch",
)


@pytest.mark.parametrize(
    ("variant", "n_nodes"),
    [
        pytest.param("same_url", 1, marks=XFAIL_FETCH, id="same_url-1node"),
        pytest.param("same_url", 2, marks=XFAIL_FETCH, id="same_url-2nodes"),
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
