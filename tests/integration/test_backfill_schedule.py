"""Backfill (`defaults.backfill`) applies to a feed's first poll and its first after an
outage, never to a poll on schedule: an outage is no successful poll for longer than the
window plus the feed's own interval (monitor.sources.backfill; its unit tests cover outages). Was broken (issue 12 red team): a daily feed (interval
1d plus jitter, or a daily `monitor once` cron a few minutes late) had every poll taken for
a return from an outage, and items published after the previous poll were skipped as
backlog. Rebuilt from lemon24/reader#113 (entries of a new feed vs entries new since the
last update must be told apart) and lion-reader#1535 (a backfill guard decides read state,
never identity)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.support.desk import Desk, articles
from tests.support.pipelines import local_pipelines

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# (variant, feed interval, gap between the two polls, item B published after poll 1 by, B skipped as backfill?)
CASES = [
    ("daily feed, jitter 10%", "1d", timedelta(hours=26), timedelta(hours=1), False),  # lemon24/reader#113
    ("daily cron, 5 minutes late", "1d", timedelta(days=1, minutes=5), timedelta(minutes=2), False),
    ("hourly feed, on time", "1h", timedelta(hours=1), timedelta(minutes=30), False),
    ("weekly feed, a day late", "7d", timedelta(days=8), timedelta(days=3), False),
    # back after an outage: the window ends at the feed's newest item (monitor.sources.backfill)
    ("daily feed, down three days", "1d", timedelta(days=3), timedelta(hours=1), False),
]


@pytest.mark.parametrize(("variant", "interval", "gap", "after", "skipped"), CASES, ids=[c[0] for c in CASES])
def test_backfill_only_after_an_outage(tmp_path, web_server, variant, interval, gap, after, skipped):
    desk = Desk(web_server, tmp_path)
    a, b = articles(2)
    ua, ub = desk.page("/a.html", a), desk.page("/b.html", b)
    item_a = {"title": a["title"], "link": ua, "guid": "a", "date": format_datetime(T0 - timedelta(hours=1))}
    item_b = {"title": b["title"], "link": ub, "guid": "b", "date": format_datetime(T0 + after)}
    desk.set_feed("daily", [item_a])
    with local_pipelines(tmp_path, web_server) as pipes:
        pipe, store, cfg = pipes.build(
            ["/daily.xml"], term="السعودية", defaults={"backfill": "1d", "interval": interval}
        )
        feed = cfg.feeds[0]
        assert pipe.poll_feed(feed, force=True, now=T0).ok
        desk.set_feed("daily", [item_b, item_a])
        assert pipe.poll_feed(feed, force=True, now=T0 + gap).ok
        rows = {r.key: r for r in store.feed_items("daily.xml", limit=10)}
    b_row = rows["guid:b"]
    assert (b_row.reason_code == "backfill") == skipped, f"{variant}: {b_row.state}/{b_row.reason_code}: {b_row.reason}"
    assert rows["guid:a"].state == "alerted", variant
