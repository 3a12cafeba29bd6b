"""Issue 12, loss 9, as a user meets it: `monitor once` on a new feed with the default config
(no `backfill` key) alerts what the outlet published today, not its backlog; `monitor feeds
NAME` shows the backlog as skipped with the reason, and the next run alerts what is new."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import yaml

from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.site import run_monitor
from tests.support.web import Response

HTML = {"Content-Type": "text/html; charset=utf-8"}


def _date(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def test_a_first_run_alerts_today_not_the_backlog(tmp_path, web_server):
    arts = [a for a in saudinewsnet_articles("2015-07-22") if len(a["content"]) > 800][:6]
    now = datetime.now(UTC)
    # published: two today, two weeks ago, the corpus's own day in 2015, undated (read: nothing
    # shows it is old); the last one, undated, is added after the first run
    dates = [now - timedelta(hours=2), now - timedelta(hours=9), now - timedelta(days=14), None, None, None]
    dates[3] = datetime.fromisoformat(arts[3]["date_extracted"][:10]).replace(hour=9, tzinfo=UTC)
    items = []
    for i, (art, when) in enumerate(zip(arts, dates, strict=True)):
        path = f"/n/{i}.html"
        page = article_page(art["title"], split_paragraphs(art["content"]), outlet="x", url=web_server.url(path))
        web_server.routes[path] = Response(200, page.encode(), HTML)
        items.append(
            {"title": art["title"], "link": web_server.url(path), "guid": f"g{i}", "date": when and _date(when)}
        )
    web_server.routes["/desk.xml"] = Response(200, rss(items[:5]), {"Content-Type": "application/rss+xml"})
    web_server.routes["/json/alerts"] = Response(200, b"{}")
    words = [max(a["title"].split(), key=len) for a in arts]  # one title word per article: each one matches
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": "sqlite:///m.db",
                "fetch": {"allow_private_networks": True},
                "feeds": [{"name": "Desk", "url": web_server.url("/desk.xml")}],
                "channels": {"cap": web_server.url("/json/alerts").replace("http://", "json://")},
                "topics": [{"id": "t", "name": "T", "any": words, "min_score": 0, "notify": ["cap"]}],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )

    def alerted() -> list[int]:
        sent = [json.loads(r.body) for r in web_server.requests if r.url_path == "/json/alerts"]
        text = " ".join(a.get("title", "") + " " + a.get("message", "") for a in sent)
        return [i for i in range(len(arts)) if f"/n/{i}.html" in text]  # each alert carries its link

    first = run_monitor(config, "once")
    assert first.returncode == 0, first.stderr
    assert alerted() == [0, 1, 4]
    assert "2 item(s) published before" in first.stdout, first.stdout
    shown = run_monitor(config, "feeds", "Desk")
    assert shown.returncode == 0, shown.stderr
    assert "skipped 2" in shown.stdout and "before the backfill window" in shown.stdout, shown.stdout

    web_server.routes["/desk.xml"] = Response(200, rss(items), {"Content-Type": "application/rss+xml"})
    second = run_monitor(config, "once")  # an ordinary poll: the undated new item alerts
    assert second.returncode == 0, second.stderr
    assert alerted() == [0, 1, 4, 5]
