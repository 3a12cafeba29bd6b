"""A topic limited by `feeds:` or `languages:` alerts on an article listed by one of its
feeds even when another feed (where the topic does not apply) listed that article first;
and the same article never alerts twice for one topic, whichever feeds list it. Was broken
(issue 12 red team): the second feed's item was `skipped/same_article`, the alert lost.
Rebuilt from tt-rss/tt-rss#57 ("the same article should be available in all of the feeds
where it is published") and FreshRSS#6916 (one article in overlapping feeds of one outlet)."""

from __future__ import annotations

import pytest
import yaml

from monitor.cli.main import main
from monitor.storage import Store
from tests.support.desk import Desk, articles

# (variant, the topic's filter, options of the feed polled first, alerts expected)
CASES = [
    ("topic limited to the other feed", {"feeds": ["Outlet"]}, {}, 1),  # FreshRSS#6916
    ("topic limited to Arabic, first feed labelled en", {"languages": ["ar"]}, {"language": "en"}, 1),  # tt-rss#57
    ("topic limited to the first feed", {"feeds": ["Aggregator"]}, {}, 1),
    ("topic limited to both feeds", {"feeds": ["Aggregator", "Outlet"]}, {}, 1),
    ("no filter", {}, {}, 1),
    ("limited to a third feed", {"feeds": ["Elsewhere"]}, {}, 0),
]


@pytest.mark.parametrize(("variant", "topic", "first", "n_alerts"), CASES, ids=[c[0] for c in CASES])
def test_a_topic_limited_to_a_feed_alerts_on_that_feeds_item(tmp_path, web_server, variant, topic, first, n_alerts):
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    url = desk.page("/a.html", a)
    for name in ("Aggregator", "Outlet", "Elsewhere"):
        desk.set_feed(name, [{"title": a["title"], "link": url, "guid": f"{name}-1"}] if name != "Elsewhere" else [])
    path = desk.config
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["topics"][0].update(topic)
    cfg["feeds"][0].update(first)
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    for _ in range(2):  # polled again: nothing new
        assert main(["--config", str(path), "once", "--feed", "Aggregator"]) == 0
        assert main(["--config", str(path), "once", "--feed", "Outlet"]) == 0
    outlet = Store(f"sqlite:///{tmp_path / 'm.db'}").feed_items("Outlet", limit=1)[0]
    assert desk.alerted(url) == n_alerts, (
        f"{variant}: Outlet's item {outlet.state}/{outlet.reason_code}: {outlet.reason}"
    )
    assert outlet.state in ("alerted", "skipped", "matched_nothing"), f"{variant}: {outlet.state}"
