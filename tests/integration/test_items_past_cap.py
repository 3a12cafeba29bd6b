"""Items listed past `fetch.max_items` reach the ledger and alert: a long RSS/Atom feed is
read in windows of max_items items (at most sources.rss.MAX_WINDOWS), so a feed that lists
oldest first and appends new items at its END loses none. Was broken (issue 12 red team):
the listing was cut to its first max_items before the ledger saw it, every new item lost
for good. Rebuilt from miniflux/v2#679 (feeds "constantly growing without any limits",
800+ entries), scraly/developers-conferences-agenda#1294 (an Atom feed of 6,066 entries)
and Tiendil/feeds.fun#171 (tens of thousands of entries); the budget is small here so the
test stays small (the default 1000 windows the same way)."""

from __future__ import annotations

import pytest

from monitor.sources.rss import MAX_WINDOWS
from monitor.storage import Store
from tests.support.desk import Desk, articles

# (variant, max_items, items listed on poll 1, on poll 2 (oldest first), newest first?)
CASES = [
    ("grows past the cap, new at the end", 3, 3, 4, False),  # miniflux/v2#679
    ("already past the cap on poll 1", 2, 3, 3, False),  # developers-conferences-agenda#1294
    ("three windows, new at the end", 2, 5, 6, False),
    ("newest first, past the cap", 2, 3, 5, True),
]


@pytest.mark.parametrize(("variant", "cap", "n1", "n2", "newest_first"), CASES, ids=[c[0] for c in CASES])
def test_item_listed_after_the_cap_is_in_the_ledger_and_alerts(
    tmp_path, web_server, variant, cap, n1, n2, newest_first
):
    desk = Desk(web_server, tmp_path, extra={"fetch": {"allow_private_networks": True, "max_items": cap}})
    arts = articles(n2)
    urls = [desk.page(f"/n/{i}.html", a) for i, a in enumerate(arts)]
    feed = [{"title": a["title"], "link": u, "guid": f"g{i}"} for i, (a, u) in enumerate(zip(arts, urls))]
    order = (lambda xs: xs[::-1]) if newest_first else (lambda xs: xs)
    desk.set_feed("Chrono", order(feed[:n1]))
    assert desk.once() == 0
    desk.set_feed("Chrono", order(feed[:n2]))
    assert desk.once() == 0
    keys = {r.key for r in Store(f"sqlite:///{tmp_path / 'm.db'}").feed_items("Chrono", limit=100)}
    missing = [f"guid:g{i}" for i in range(n2) if f"guid:g{i}" not in keys]
    assert not missing, f"{variant}: listed items with no ledger row: {missing}"
    assert all(desk.alerted(u) == 1 for u in urls), f"{variant}: {len(desk.alerts())} alerts for {n2} items"


def test_past_every_window_the_rest_is_cut_with_a_warning(tmp_path, web_server, capsys):
    n = MAX_WINDOWS + 2  # max_items 1: MAX_WINDOWS windows of one item
    desk = Desk(web_server, tmp_path, extra={"fetch": {"allow_private_networks": True, "max_items": 1}})
    desk.set_feed("Long", [{"title": f"t{i}", "guid": f"g{i}", "description": "d"} for i in range(n)])
    assert desk.once() == 0
    out = capsys.readouterr().out
    assert f"feed has {n} items; the first {MAX_WINDOWS} were read" in out, out
    assert len(Store(f"sqlite:///{tmp_path / 'm.db'}").feed_items("Long", limit=100)) == MAX_WINDOWS
