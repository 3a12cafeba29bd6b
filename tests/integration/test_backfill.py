"""Issue 12, loss 9: a feed's first poll (or its first after an outage longer than
`defaults.backfill`) alerts only items published within the window; the rest are recorded in
the item ledger as skipped, with the reason, and their pages are not fetched. The rules and
their decisions (undated items, future dates, the boundary, stale feeds) are in
monitor.sources.backfill. Real pipeline, SQLite, a loopback server, real SaudiNewsNet text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.pipelines import local_pipelines
from tests.support.web import Response

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
DOWN = "down"  # a poll that fails (HTTP 500): no successful poll, the outage goes on
ARTS = saudinewsnet_articles("2015-07-21")[:6]
YEAR = 24 * 365.0

# window: `defaults.backfill`, or the `defaults` to use.
# A poll: (hours after T0, listing) where a listing maps item number -> the age of its date at
# that poll in hours (negative: ahead of our clock; None: no date; a datetime: that date), or DOWN.
# want: the final state of each item: "worked" (its page fetched and matched) or the skip code.
CASES = [
    # the first poll: the backlog older than the window before the newest item is recorded, not alerted
    ("first poll", "1d", [(0, {0: 1, 1: 24.5, 2: 26, 3: 2 * YEAR})], ["worked", "worked", "backfill", "backfill"]),
    # exactly at the window's old end alerts; a minute older does not
    ("boundary", "1d", [(0, {0: 0, 1: 24, 2: 24 + 1 / 60})], ["worked", "worked", "backfill"]),
    ("window 2h", "2h", [(0, {0: 0, 1: 1.5, 2: 2.5})], ["worked", "worked", "backfill"]),
    # up to 2 days ahead is a zone or clock slip (fresh); further ahead is not a date to trust (undated)
    ("future dates", "1d", [(0, {0: -30, 1: -24 * 3, 2: 30})], ["worked", "worked", "backfill"]),
    # undated: nothing shows they are old; read and matched on the first poll as on any other
    ("undated", "1d", [(0, {0: None, 1: None}), (1, {0: None, 1: None, 2: None})], ["worked"] * 3),
    ("undated beside dated", "1d", [(0, {0: 1, 1: None, 2: 40})], ["worked", "worked", "backfill"]),
    # every item old (an archive, a wrong clock, a test site serving 2015): the newest day alerts
    (
        "all old",
        "1d",
        [
            (
                0,
                {
                    0: datetime(2015, 7, 21, 10, tzinfo=UTC),
                    1: datetime(2015, 7, 20, 20, tzinfo=UTC),
                    2: datetime(2012, 5, 2, tzinfo=UTC),
                },
            )
        ],
        ["worked", "worked", "backfill"],
    ),
    # an outage longer than the window: a backfill poll again, for new items only
    (
        "outage longer",
        "1d",
        [(0, {0: 1}), (1, DOWN), (49, {0: 50, 1: 30, 2: 2, 3: None})],
        ["worked", "backfill", "worked", "worked"],
    ),
    # an outage shorter than the window (or exactly it): an ordinary poll, every new item alerts
    ("outage shorter", "1d", [(0, {}), (1, DOWN), (20, {0: 19, 1: None, 2: YEAR})], ["worked"] * 3),
    ("outage exactly the window", "1d", [(0, {}), (24, {0: 30, 1: None})], ["worked"] * 2),
    # after the first poll an old-dated NEW item alerts: only a backfill poll reads dates
    ("old date later", "1d", [(0, {0: 1}), (1, {0: 2, 1: 3 * YEAR})], ["worked", "worked"]),
    # a feed polled every 2 days is not back from an outage on each poll: its gap is its interval
    (
        "interval longer than the window",
        {"backfill": "1d", "interval": "2d"},
        [(0, {0: 1}), (48, {0: 49, 1: 30})],
        ["worked"] * 2,
    ),
    (
        "...but an outage beyond its interval",
        {"backfill": "1d", "interval": "2d"},
        [(0, {0: 1}), (73, {0: 74, 1: 30, 2: 1})],
        ["worked", "backfill", "worked"],
    ),
    ("off", "off", [(0, {0: 2 * YEAR, 1: None, 2: -24 * 3})], ["worked"] * 3),
]


def _serve(web, n: int) -> list[dict]:
    items = []
    for i, art in enumerate(ARTS[:n]):
        path = f"/a/{i}.html"
        page = article_page(art["title"], split_paragraphs(art["content"]), outlet=art["source"], url=web.url(path))
        web.routes[path] = Response(200, page.encode(), HTML)
        items.append({"title": art["title"], "link": web.url(path), "guid": f"g-{i}"})
    return items


def _rfc822(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _listing(items: list[dict], listing: dict, at: datetime) -> bytes:
    out = []
    for n, age in listing.items():
        if isinstance(age, datetime):
            date = _rfc822(age)
        else:
            date = None if age is None else _rfc822(at - timedelta(hours=age))
        out.append({**items[n], "date": date})
    return rss(out)


def _run(tmp_path, web, window: str | dict, polls: list, n: int):
    """Poll the feed through `polls`; the ledger rows of the `n` items and the feed's state."""
    items = _serve(web, n)
    web.routes["/f.xml"] = Response(200, rss([]), RSS)
    with local_pipelines(tmp_path, web) as pipelines:
        defaults = window if isinstance(window, dict) else {"backfill": window}
        pipe, store, _ = pipelines.build(["/f.xml"], term="ال", defaults=defaults)
        feed = pipe.config.feeds[0]
        for hours, listing in polls:
            at = T0 + timedelta(hours=hours)
            if listing == DOWN:
                web.routes["/f.xml"] = Response(500, b"down")
            else:
                web.routes["/f.xml"] = Response(200, _listing(items, listing, at), RSS)
            pipe.poll_feed(feed, force=True, now=at)
        rows = {r.key: r for r in store.feed_items("f.xml", limit=50)}
        return [rows[f"guid:{i['guid']}"] for i in items], store.feed_state("f.xml")


WORKED = ("alerted", "matched_nothing", "copy")  # fetched and matched (what matched is not the point)


def _outcome(row) -> str:
    return row.reason_code if row.state == "skipped" else "worked" if row.state in WORKED else row.state


@pytest.mark.parametrize(("name", "window", "polls", "want"), CASES, ids=[c[0] for c in CASES])
def test_backfill_table(tmp_path, web_server, name, window, polls, want):
    rows, _ = _run(tmp_path, web_server, window, polls, len(want))
    assert [_outcome(r) for r in rows] == want
    for row, outcome in zip(rows, want, strict=True):
        assert row.reason, row  # every state says why
        fetched = any(r.url_path == f"/a/{row.key.split('-')[-1]}.html" for r in web_server.requests)
        assert fetched == (outcome == "worked"), row  # a skipped item's page is never fetched


# ---- rebuilt from public reports ---------------------------------------------------------------
def test_a_new_subscription_does_not_alert_its_backlog(tmp_path, web_server):
    # miniflux/v2#1466 ("How to prevent feeds of a new subscription from showing up on Unread
    # page?") and brief-rss/brief#134 (a just-added index feed listing items from years before as
    # new): the feed lists today's two items among months-old and years-old ones.
    listing = {0: 3, 1: 11, 2: 24 * 40, 3: 24 * 200, 4: datetime(2012, 5, 2, 9, 0, tzinfo=UTC), 5: 3 * YEAR}
    rows, state = _run(tmp_path, web_server, "1d", [(0, listing)], 6)
    assert [_outcome(r) for r in rows] == ["worked", "worked"] + ["backfill"] * 4
    assert "2012-05-02 09:00 UTC" in rows[4].reason and "backfill window" in rows[4].reason
    # the feed says what the first poll did, not that its clock looks wrong
    assert state is not None and state.last_warning
    assert "4 item(s) published before" in state.last_warning


def test_a_feed_without_dates_loses_nothing(tmp_path, web_server):
    # miniflux/picoFeed#246 (an item without <pubDate> got "now" as its date, so every existing
    # post of the feed looked new) and elfeed#26 (undated entries re-dated on every update): the
    # first poll reads the undated items once (nothing shows they are old), the item added after
    # it is read too, and none comes back as new on later polls.
    polls = [(0, {0: None, 1: None, 2: None}), (1, {3: None, 0: None, 1: None, 2: None}), (2, {3: None, 0: None})]
    rows, _ = _run(tmp_path, web_server, "1d", polls, 4)
    assert [_outcome(r) for r in rows] == ["worked"] * 4
    fetched = [r.url_path for r in web_server.requests if r.url_path.startswith("/a/")]
    assert sorted(fetched) == [f"/a/{i}.html" for i in range(4)]  # each page read once


@pytest.mark.parametrize(
    ("dates", "want"),
    [
        # guardian/frontend#8810: fresh stories stamped with one fixed old timestamp (2014-12-16)
        ([datetime(2014, 12, 16, 14, 13, tzinfo=UTC)] * 2, ["worked", "worked", "worked"]),
        # kanadaj/RoyalRoadLegends#73: every date in January 1970 (the reader drops it: undated)
        ([datetime(1970, 1, 17, 23, 8, tzinfo=UTC)] * 2, ["worked", "worked", "worked"]),
        # woodwind#36 / selfoss#67: an item dated weeks ahead sticks "at the top": not trusted, read
        # as undated; the window ends at the newest credible date
        ([T0 + timedelta(days=20), T0 - timedelta(hours=2)], ["worked", "worked", "worked"]),
        # a fixed wrong clock beside a backlog the clock puts further back: the backlog is skipped
        (
            [datetime(2014, 12, 16, 14, 13, tzinfo=UTC), datetime(2014, 11, 1, tzinfo=UTC)],
            ["worked", "backfill", "worked"],
        ),
    ],
)
def test_a_wrong_clock_at_the_outlet_loses_nothing(tmp_path, web_server, dates, want):
    """Decision (monitor.sources.backfill): the window ends at the newest credible date of the
    listing, so a feed whose clock is wrong still alerts its newest items on the first poll, and
    the next item the outlet adds alerts whatever its (wrong) date."""
    first = dict(enumerate(dates))
    later = {**first, 2: dates[0]}  # the new item carries the same wrong clock
    rows, state = _run(tmp_path, web_server, "1d", [(0, first), (1, later)], 3)
    assert [_outcome(r) for r in rows] == want
    assert "backfill window" not in (state.last_warning or "")  # the second poll was an ordinary one
