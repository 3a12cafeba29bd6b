"""Page claims (storage/claims.py): one poller at a time works an article URL, so a page
two feeds list, polled at once, is fetched once (issue 17, redteam17b #2), on SQLite (one
process, the daemon's worker threads) and PostgreSQL (concurrent jobs, several nodes).

Rebuilt (no text copied) from public reports of the kind:
- emacs-elfeed/elfeed#391: an outlet's category feeds share entries; each feed's copy of
  an entry was handled on its own.
- miniflux/v2#797: one entry listed in several feeds (here also with tracking parameters
  or a fragment on one feed's link, the same page once normalised).
"""

from __future__ import annotations

import threading

import pytest

from monitor.storage import Store
from tests.support.cluster import covering_terms
from tests.support.pipelines import feed_pipeline
from tests.support.service_helpers import articles, serve_feed
from tests.support.site import rss
from tests.support.web import Response

pytestmark = pytest.mark.integration


def _hold(store: Store, key: str, entered: threading.Event, release: threading.Event) -> None:
    with store.claim_page(key):
        entered.set()
        release.wait(60)


# (case, the second poller's key, the first releases its claim while the second waits,
# the second's wait in seconds, the second got the claim, it entered while the first held it)
CLAIMS = [
    ("same page, the first finishes: the second waits, then has it", "a/1", True, 60.0, True, False),
    ("same page, the first frozen: the second gives up after its wait", "a/1", False, 0.3, False, True),
    ("another page: no wait", "a/2", False, 60.0, True, True),
]


@pytest.mark.parametrize("case,key,released,wait,got,overlap", CLAIMS, ids=[c[0] for c in CLAIMS])
def test_one_claim_per_page(store, case, key, released, wait, got, overlap):
    entered, release = threading.Event(), threading.Event()
    first = threading.Thread(target=_hold, args=(store, "a/1", entered, release))
    first.start()
    assert entered.wait(60)
    seen: list[bool] = []
    if released:
        threading.Timer(0.5, release.set).start()  # while the second waits for the claim
    try:
        with store.claim_page(key, wait=wait) as granted:
            seen += [granted, not release.is_set()]
    finally:
        release.set()
        first.join(60)
    assert seen == [got, overlap], case


N = 3  # real articles

# (case, how the second feed writes each page's link)
LINKS = [
    ("the same URL in both feeds (elfeed#391)", lambda url: url),
    ("tracking parameters on the section feed's link (miniflux/v2#797)", lambda url: f"{url}?utm_source=rss"),
    ("a fragment on the section feed's link", lambda url: f"{url}#comments"),
]


@pytest.mark.parametrize("case,link", LINKS, ids=[c[0] for c in LINKS])
def test_two_feeds_polled_at_once_fetch_each_page_once(tmp_path, store_url, web_server, case, link):
    """Single node, two worker threads (the daemon's pool; a cluster node's jobs likewise)."""
    web = web_server
    arts = articles("2015-07-21", 0, N)
    pages = serve_feed(web, "/main.xml", arts, delay=1.0)  # slow pages: the two polls overlap
    web.routes["/section.xml"] = Response(
        200, rss([(a["title"], link(u), f"s-{i}") for i, (a, u) in enumerate(zip(arts, pages))]), {}
    )
    pipeline = feed_pipeline(
        tmp_path,
        store_url,
        [("main", web.url("/main.xml")), ("section", web.url("/section.xml"))],
        covering_terms(arts),
    )
    try:
        polls = [
            threading.Thread(target=pipeline.poll_feed, args=(feed,), kwargs={"force": True})
            for feed in pipeline.config.feeds
        ]
        for t in polls:
            t.start()
        for t in polls:
            t.join(300)
        fetched = [len(web.requests_for(p.split(str(web.port), 1)[1])) for p in pages]
        stored = [len(pipeline.store.list_alerts(limit=100))]
    finally:
        pipeline.fetcher.close()
        pipeline.store.close()
    assert fetched == [1] * N, f"{case}: fetches per page {fetched}"
    assert stored == [N], f"{case}: alerts {stored}"
