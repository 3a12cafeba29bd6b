"""An article whose page fails poll after poll (a site overloaded by the very news it
breaks) is never settled silently on its teaser: when the teaser matches, it alerts and
its ledger reason says only the teaser was read; when the teaser matches nothing, the item
stays pending and its page is tried again with a doubling wait until PAGE_GIVE_UP, so a
page back later is read in full and alerts. Was broken (issue 12 red team): settled
`matched_nothing` after 3 failures, never read again, reason silent. Rebuilt from
babarot/oksskolten#73 / PR #85 (articles settled on a thin fallback "stayed broken forever")
and FreshRSS#5825 (full-content fetches failing with HTTP 500 across a feed)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor import pipeline as pipeline_mod
from monitor.storage import Store
from tests.support.corpus_pages import saudinewsnet_articles
from tests.support.desk import Desk, articles
from tests.support.web import Response, sequence

# (variant, failing answers before the page is back)
CASES = [
    ("503 three times", [Response(503, b"busy", {"Retry-After": "60"})] * 3),
    ("500 three times", [Response(500, b"error")] * 3),
    ("404 five times", [Response(404, b"not yet")] * 5),  # published in the feed before the page
    ("dropped connection four times", [Response(200, b"", drop=True)] * 4),
]


def _row(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'm.db'}").feed_items("Desk", limit=1)[0]


@pytest.mark.parametrize(("variant", "failures"), CASES, ids=[c[0] for c in CASES])
def test_a_page_back_after_an_outage_is_read_and_alerts(tmp_path, web_server, monkeypatch, variant, failures):
    monkeypatch.setattr(pipeline_mod, "PAGE_RETRY_BASE", 0.0)  # `once` passes come back-to-back here
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    url = desk.page("/a.html", a)
    page = web_server.routes["/a.html"]
    web_server.routes["/a.html"] = sequence(*failures, page)
    # the feed's title and teaser (real ones, of another article) hold no topic term; the page does
    other = next(x for x in saudinewsnet_articles("2015-07-23") if desk.term not in x["title"] + x["content"][:200])
    desk.set_feed("Desk", [{"title": other["title"], "link": url, "guid": "a", "description": other["content"][:200]}])
    for n in range(len(failures)):
        desk.once()
        row = _row(tmp_path)
        assert row.state == "pending" and row.reason_code == "page_retry", f"{variant} #{n}: {row.state}: {row.reason}"
    desk.once()
    row = _row(tmp_path)
    assert row.state == "alerted" and desk.alerted(url) == 1, f"{variant}: {row.state}/{row.reason_code}: {row.reason}"


def test_the_retries_wait_longer_each_time_and_say_so(tmp_path, web_server):
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    url = desk.page("/a.html", a)
    web_server.routes["/a.html"] = Response(503, b"busy")
    other = next(x for x in saudinewsnet_articles("2015-07-23") if desk.term not in x["title"] + x["content"][:200])
    desk.set_feed("Desk", [{"title": other["title"], "link": url, "guid": "a", "description": other["content"][:200]}])
    for _ in range(pipeline_mod.MAX_PAGE_ATTEMPTS):
        desk.once()
    row = _row(tmp_path)
    wait = row.next_try_at - row.updated_at
    assert row.state == "pending" and wait == timedelta(seconds=pipeline_mod.PAGE_RETRY_BASE), row.reason
    assert "HTTP 503" in row.reason and "tried again at" in row.reason
    desk.once()  # not due yet: nothing fetched
    assert len(web_server.requests_for("/a.html")) == pipeline_mod.MAX_PAGE_ATTEMPTS


def test_a_page_given_up_settles_with_a_reason_that_says_only_the_teaser_was_read(tmp_path, web_server, monkeypatch):
    monkeypatch.setattr(pipeline_mod, "PAGE_RETRY_BASE", 0.0)
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    url = desk.page("/a.html", a)
    web_server.routes["/a.html"] = Response(500, b"error")
    other = next(x for x in saudinewsnet_articles("2015-07-23") if desk.term not in x["title"] + x["content"][:200])
    desk.set_feed("Desk", [{"title": other["title"], "link": url, "guid": "a", "description": other["content"][:200]}])
    for _ in range(pipeline_mod.PAGE_GIVE_UP + 2):
        desk.once()
    assert len(web_server.requests_for("/a.html")) == pipeline_mod.PAGE_GIVE_UP  # bounded
    row = _row(tmp_path)
    assert row.state == "matched_nothing" and "only the feed's title and teaser" in row.reason, row.reason
    assert f"failed {pipeline_mod.PAGE_GIVE_UP} times" in row.reason


def test_a_teaser_that_matches_alerts_at_once_and_says_so(tmp_path, web_server):
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    url = desk.page("/a.html", a)
    web_server.routes["/a.html"] = Response(503, b"busy")
    desk.set_feed("Desk", [{"title": a["title"], "link": url, "guid": "a", "description": a["content"][:300]}])
    for _ in range(pipeline_mod.MAX_PAGE_ATTEMPTS):
        desk.once()
    row = _row(tmp_path)
    assert row.state == "alerted" and desk.alerted(url) == 1 and "only the feed's title and teaser" in row.reason
