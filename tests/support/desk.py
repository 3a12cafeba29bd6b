"""A small newsroom for delivery tests (first written by the red team, issue 12): real
Arabic articles (tests/fixtures via tests.support.corpus_pages) served as pages on the loopback web server, one RSS feed
whose items a test rewrites between polls, and a json:// channel on the same server that
records every alert. `monitor once` runs in-process through cli.main, as a user runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.cli.main import main
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.web import Response, WebServer

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
TERM = "السعودية"  # the topic's one term; every article used below holds it


def articles(n: int) -> list[dict]:
    """`n` distinct real articles (long enough to extract) that mention TERM."""
    pool = [
        a
        for day in ("2015-07-21", "2015-07-22")
        for a in saudinewsnet_articles(day)
        if len(a["content"]) > 800 and TERM in a["content"]
    ]
    seen, out = set(), []
    for a in pool:
        if a["title"] not in seen:
            seen.add(a["title"])
            out.append(a)
    assert len(out) >= n, f"only {len(out)} articles"
    return out[:n]


@dataclass
class Desk:
    web: WebServer
    tmp: Path
    feeds: dict[str, str] = field(default_factory=dict)  # name -> path
    extra: dict[str, Any] = field(default_factory=dict)
    term: str = TERM

    def page(self, path: str, art: dict) -> str:
        """Serve `art` at `path`; returns its URL."""
        url = self.web.url(path)
        body = article_page(art["title"], split_paragraphs(art["content"]), outlet="x", url=url)
        self.web.routes[path] = Response(200, body.encode(), HTML)
        return url

    def set_feed(self, name: str, items: list[dict], headers: dict[str, str] | None = None) -> None:
        path = f"/{name}.xml"
        self.feeds[name] = path
        self.web.routes[path] = Response(200, rss(items), {**RSS, **(headers or {})})

    @property
    def config(self) -> Path:
        cfg: dict[str, Any] = {
            "storage": f"sqlite:///{self.tmp / 'm.db'}",
            "fetch": {"allow_private_networks": True},
            "feeds": [{"name": n, "url": self.web.url(p)} for n, p in self.feeds.items()],
            "channels": {"cap": self.web.url("/json/alerts").replace("http://", "json://")},
            "topics": [{"id": "t", "name": "T", "any": [self.term], "min_score": 0, "notify": ["cap"]}],
        }
        for k, v in self.extra.items():
            cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v
        path = self.tmp / "config.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        self.web.routes.setdefault("/json/alerts", Response(200, b"{}"))
        return path

    def once(self, *args: str) -> int:
        return main(["--config", str(self.config), "once", *args])

    def alerts(self) -> list[str]:
        """The message body of every alert the channel received, in order."""
        return [r.json()["message"] for r in self.web.requests_for("/json/alerts")]

    def alerted(self, url: str) -> int:
        """How many alerts named `url`."""
        return sum(url in m for m in self.alerts())
