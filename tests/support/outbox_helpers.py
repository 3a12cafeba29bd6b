"""Helpers for the outbox tests: a config, a store and real alerts from corpus articles."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import yaml

from monitor.config.load import parse_config
from monitor.delivery.render import render_alert
from monitor.models import Article, Match, NewAlert, TermHit, channel_kind
from monitor.storage import Store

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
TOKEN = "123456:AAHsecretTOKENvalue_-xyz"


def corpus(day: str = "2015-07-21") -> list[dict]:
    with open(os.path.join(FIXTURES, "saudinewsnet", f"{day}.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def make_config(tmp_path, channels: dict, topics: list[dict] | None = None, notify: dict | None = None):
    data = {
        "storage": f"sqlite:///{tmp_path / 'monitor.db'}",
        "feeds": [{"name": "F", "url": "http://127.0.0.1:9/feed"}],
        "channels": channels,
        "topics": topics or [{"id": "t", "name": "كوريا الشمالية", "any": ["كوريا"], "notify": list(channels)}],
    }
    if notify:
        data["notify"] = notify
    return parse_config(yaml.safe_dump(data, allow_unicode=True), path=tmp_path / "config.yaml", env={})


def add_article(
    store: Store,
    config,
    row: dict,
    *,
    topic: str = "t",
    channels=None,
    now: datetime | None = None,
    outbox=None,
    key: str | None = None,
    published: datetime | None = None,
) -> int:
    """Store one corpus article (published at `published`, None: undated) with an alert per
    channel (held as the outbox decides)."""
    now = now or datetime.now(UTC)
    url = key or row["url"]
    article = Article(url=url, url_key=url, feed="F", title=row["title"], body=row["content"], published=published)
    topic_name = next(t.name for t in config.topics if t.id == topic)
    match = Match(
        topic, topic_name, (TermHit("كوريا", "كوريا", "body", 0, 0, 5, "any"),), " ".join(row["content"][:200].split())
    )
    alerts = []
    for channel in channels or list(config.channels):
        r = render_alert(article, match, outlet=row["source"], channel_kind=channel_kind(config.channels[channel]))
        hold = outbox.hold(channel, topic, now) if outbox else (None, None)
        alerts.append(NewAlert(topic, channel, r.subject, r.text, r.html, *hold))
    return store.save_article(article, guid="", outlet=row["source"], matches=[match], alerts=alerts)


class FakeClock:
    """Monotonic fake time; sleeping advances it (no real waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.sleeps.append(seconds)
        self.now += seconds
        return False
