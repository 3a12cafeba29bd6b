"""Issue 12: a user can see what happened to every item: `monitor feeds NAME`, `monitor explain URL`,
and `monitor_items{state}` in /metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest

from monitor import metrics
from monitor.cli.main import main
from monitor.storage import Store
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.web import Response, sequence

HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def desk(tmp_path, web_server) -> tuple[Path, list[str]]:
    """A feed of 4 items: two real articles, a copy of the first under another URL, and one
    whose page fails (500) on the first poll."""
    arts = [a for a in saudinewsnet_articles("2015-07-21") if len(a["content"]) > 800][:3]
    urls = []
    for i, art in enumerate([arts[0], arts[1], arts[0], arts[2]]):
        path = f"/n/{i}.html"
        page = Response(
            200,
            article_page(art["title"], split_paragraphs(art["content"]), outlet="x", url=web_server.url(path)).encode(),
            HTML,
        )
        web_server.routes[path] = sequence(Response(500, b"down"), page) if i == 3 else page
        urls.append(web_server.url(path))
    # each item under its page's headline (a headline unrelated to the page is an interstitial, issue 12 loss 5)
    pages = [arts[0], arts[1], arts[0], arts[2]]
    items = [{"title": a["title"], "link": u, "guid": f"g{i}"} for i, (a, u) in enumerate(zip(pages, urls))]
    web_server.routes["/desk.xml"] = Response(200, rss(items), {"Content-Type": "application/rss+xml"})
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "storage": f"sqlite:///{tmp_path / 'm.db'}",
                "defaults": {"backfill": "off"},  # undated items, all new on the first poll
                "fetch": {"allow_private_networks": True},
                "feeds": [{"name": "Desk", "url": web_server.url("/desk.xml")}],
                "channels": {"cap": web_server.url("/json/alerts").replace("http://", "json://")},
                "topics": [{"id": "t", "name": "T", "any": ["كوريا"], "notify": ["cap"]}],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    web_server.routes["/json/alerts"] = Response(200, b"{}")
    return path, urls


def test_feeds_name_shows_every_item_state_and_what_is_still_open(desk, capsys):
    config, urls = desk
    assert main(["--config", str(config), "once"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "feeds", "Desk"]) == 0
    out = capsys.readouterr().out
    assert "items: pending 1" in out and "copy 1" in out
    assert "open items (pending, failed):" in out and "pending/page_retry" in out and urls[3] in out
    assert main(["--config", str(config), "feeds", "show", "Desk"]) == 0  # the long form
    ages = re.compile(r"\b\d+[smhd] ago\b")  # a second may pass between the two calls
    assert ages.sub("AGE", capsys.readouterr().out) == ages.sub("AGE", out)
    assert main(["--config", str(config), "once"]) == 0  # the page answers now
    capsys.readouterr()
    assert main(["--config", str(config), "feeds", "Desk"]) == 0
    out = capsys.readouterr().out
    assert "pending 0" in out and "failed 0" in out and "open items" not in out
    assert main(["--config", str(config), "feeds", "Nope"]) == 2


def test_explain_url_shows_the_item_state_and_what_it_copies(desk, capsys):
    config, urls = desk
    assert main(["--config", str(config), "once"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "explain", urls[2]]) == 0
    out = capsys.readouterr().out
    assert "ledger: feed Desk item #3 copy/same_text_as" in out
    assert f"copy of article #1 {urls[0]}" in out
    assert main(["--config", str(config), "explain", urls[3]]) == 0
    assert "pending/page_retry" in capsys.readouterr().out


def test_metrics_count_items_per_state(desk, capsys):
    config, _ = desk
    assert main(["--config", str(config), "once"]) == 0
    store = Store(f"sqlite:///{config.parent / 'm.db'}")
    try:
        counts = store.item_counts()
        registry = CollectorRegistry()
        registry.register(metrics.StateCollector(lambda: {"ready": True, "items": store.item_counts()}))
        text = generate_latest(registry).decode()
    finally:
        store.close()
    for state, n in counts.items():
        assert f'monitor_items{{state="{state}"}} {float(n)}' in text
    assert counts["pending"] == 1 and sum(counts.values()) == 4
