"""Red team of issue 15 (redteam15b), end to end: an `alert: per-story` topic through a real
`monitor once` on a loopback feed, where each poll brings a short item of a DIFFERENT event that
opens with the same agency boilerplate as the last. The user should get one alert per event.

With the head rule of stories15b running (it did not run on main b423ad6: story_articles.head and
words were never stored, tests/integration/test_redteam15b_prepared.py), the second item joins the
first one's story by its head (title + first 40 words, cosine >= 0.5), so the topic stays silent
on it: a missed alert. Fixed: a page's text (these items' pages are read) is not compared by its
head; only a feed summary is, and only with another outlet's articles (dedup/stories.Member); the pairs and their head cosines are in
tests/integration/test_redteam15b_stories.py, the public reports of the kind there too
(https://github.com/marin-community/marin/issues/6851: distinct documents that share a template
collapse into one cluster). Articles: tests/fixtures/redteam15b/short_heads.jsonl (SaudiNewsNet,
CC BY-NC-SA 4.0).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from monitor.cli.main import main
from tests.support.desk import Desk

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parent.parent / "fixtures" / "redteam15b" / "short_heads.jsonl"

# (the topic's term, first event, second event, alert mode): every article holds the term
CASES = [
    pytest.param("برقية تهنئة", "snn-20150722-0929", "snn-20150722-1302", "per-article", id="control-per-article"),
    pytest.param(
        "برقية تهنئة",
        "snn-20150722-0929",
        "snn-20150722-1302",
        "per-story",
        id="royal-cables-colombia-then-egypt",
    ),
    pytest.param(
        "حالة الطقس",
        "snn-20150722-0872",
        "snn-20150723-1288",
        "per-story",
        id="weather-report-22-then-23-july",
    ),
    pytest.param(
        "حفل معايدة",
        "snn-20150723-0326",
        "snn-20150723-0328",
        "per-story",
        id="eid-party-transport-then-riyadh-municipality",
    ),
]


@pytest.mark.parametrize(("term", "first", "second", "mode"), CASES)
def test_a_per_story_topic_alerts_on_each_boilerplate_event(tmp_path, web_server, term, first, second, mode):
    arts = {a["id"]: a for a in map(json.loads, FIXTURE.read_text(encoding="utf-8").splitlines())}
    desk = Desk(web_server, tmp_path, term=term)
    items = []
    urls = []
    for n, aid in enumerate((first, second)):
        assert term in arts[aid]["content"], aid
        url = desk.page(f"/{n}.html", arts[aid])
        urls.append(url)
        items.append({"title": arts[aid]["title"], "link": url, "guid": aid})
        desk.set_feed("Outlet", list(items))
        path = desk.config
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
        cfg["topics"][0]["alert"] = mode
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        assert main(["--config", str(path), "once"]) == 0
    assert [desk.alerted(u) for u in urls] == [1, 1]
