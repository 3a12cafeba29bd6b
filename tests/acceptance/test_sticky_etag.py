"""A server that keeps its ETag while its feed changes (miniflux-legacy#218, newsbeuter#331):
repeated `monitor once` runs alert the item it hides behind 304s once the feed's last full
answer is `full_fetch_after` (default 6 h) old, the ledger shows it, `monitor feeds` says
the ETag is no longer sent, and the next new item alerts on the next run."""

from __future__ import annotations

import json
from datetime import timedelta

import yaml
from sqlalchemy import update

from monitor.cli.main import main
from monitor.storage import Store
from monitor.storage.schema import feeds
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.web import Request, Response

TERM = "كوريا"
TAG = '"v1"'  # the one ETag this server ever sends


def test_monitor_once_alerts_the_item_a_sticky_etag_hid(tmp_path, web_server, capsys):
    arts = [a for a in saudinewsnet_articles("2015-07-21") if len(a["content"]) > 800]
    quiet = next(a for a in arts if TERM not in a["title"] + a["content"])
    hits = [a for a in arts if TERM in a["title"] + a["content"]][:2]
    items: list[dict] = []

    def add(art: dict) -> str:
        path = f"/n/{len(items)}.html"
        page = article_page(art["title"], split_paragraphs(art["content"]), outlet="x", url=web_server.url(path))
        web_server.routes[path] = Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
        items.append({"title": art["title"], "link": web_server.url(path), "guid": f"g{len(items)}"})
        return web_server.url(path)

    def feed(request: Request) -> Response:
        if request.headers.get("If-None-Match") == TAG:
            return Response(304, b"", {"ETag": TAG})
        return Response(200, rss(list(reversed(items))), {"Content-Type": "application/rss+xml", "ETag": TAG})

    alerts: list[bytes] = []

    def capture(request: Request) -> Response:
        alerts.append(request.body)
        return Response(200, b"{}")

    web_server.routes["/sticky.xml"] = feed
    web_server.routes["/json/alerts"] = capture
    config = tmp_path / "config.yaml"
    db = tmp_path / "m.db"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": f"sqlite:///{db}",
                "defaults": {"backfill": "off"},  # undated items: every one new
                "fetch": {"allow_private_networks": True},
                "feeds": [{"name": "Sticky", "url": web_server.url("/sticky.xml")}],
                "channels": {"cap": web_server.url("/json/alerts").replace("http://", "json://")},
                "topics": [{"id": "t", "name": "T", "any": [TERM], "notify": ["cap"]}],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )

    def once() -> None:
        assert main(["--config", str(config), "once"]) == 0

    def feeds_out() -> str:
        capsys.readouterr()
        assert main(["--config", str(config), "feeds", "Sticky"]) == 0
        return capsys.readouterr().out

    add(quiet)
    once()
    hidden = add(hits[0])
    once()  # the server answers 304: the item is hidden
    assert alerts == [] and "items: " in (out := feeds_out()) and hidden not in out
    assert web_server.requests_for("/sticky.xml")[-1].headers.get("If-None-Match") == TAG

    # six hours later (the feed's last full answer made that old in the store)
    store = Store(f"sqlite:///{db}")
    try:
        last_full = store.feed_state("Sticky").full_fetch_at
        with store.tx() as conn:
            conn.execute(update(feeds).values(full_fetch_at=last_full - timedelta(hours=6, minutes=1)))
    finally:
        store.close()
    once()
    sent = web_server.requests_for("/sticky.xml")[-1].headers
    assert sent.get("If-None-Match") is None and sent.get("Cache-Control") == "no-cache"
    assert len(alerts) == 1 and hidden in json.dumps(json.loads(alerts[0]), ensure_ascii=False)
    out = feeds_out()
    assert "alerted 1" in out and hidden in out
    assert "conditional GET: etag not sent" in out and "kept its ETag" in out

    # from now on the ETag is not sent: the next new item alerts on the next run
    add(hits[1])
    once()
    assert web_server.requests_for("/sticky.xml")[-1].headers.get("If-None-Match") is None
    assert len(alerts) == 2 and "alerted 2" in feeds_out()
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 0
    assert "1 with lying validators" in capsys.readouterr().out
    assert main(["--config", str(config), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feeds"][0]["untrusted_validators"] == ["etag"]
