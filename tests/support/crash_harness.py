"""Kill the real daemon with SIGKILL while alerts flow; count alerts lost and duplicated.

Used by tests/test_crash.py (a few kills) and bench/crash.py (50 and more). A
WebServer serves one feed of real SaudiNewsNet articles; the daemon (`python -m
monitor run`, a subprocess) fetches, extracts, matches, stores and sends to a
FakeTelegram at 5 messages a second. Each run is killed at a random moment:
either at a random time after start (start-up, polling, extracting, storing) or
just after its first new send (alerts in flight). After the last kill the daemon
runs until the outbox is empty and stops on SIGTERM.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import yaml

from monitor.config.load import load_config
from monitor.matching.matcher import compile_topics
from monitor.storage import Store
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.telegram import FakeTelegram
from tests.support.web import Response, WebServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:CRASHtestTOKEN_abcdefghijklmnop"
TERM = "في"  # in nearly every Arabic news text: most articles alert


@dataclass(frozen=True)
class CrashResult:
    kills: int
    kills_in_flight: int  # kills that landed after the run had started sending
    alerts: int  # alerts the store made
    expected: int  # copy groups (one wire story each) whose stored text matches the topic
    delivered: int  # distinct copy groups seen by the fake Telegram
    lost: int
    duplicates: int
    seconds: float
    ledger_open: int = 0  # listed items not in a terminal ledger state at the end (issue 12): must be 0


def _articles(n: int) -> list[dict]:
    out = []
    for day in ("2015-07-21", "2015-07-22", "2015-07-23"):
        out += saudinewsnet_articles(day)
    return out[:n]


def _rss(items: list[tuple[str, str]]) -> bytes:
    import html

    body = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><guid>{html.escape(u)}</guid></item>"
        for t, u in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
        f"<link>http://example.invalid/</link><description>x</description>{body}</channel></rss>"
    ).encode()


def run(kills: int, *, articles: int = 120, seed: int = 1, workdir: Path, log=print) -> CrashResult:
    rnd = random.Random(seed)
    started = time.monotonic()
    with WebServer() as web, FakeTelegram() as tg:
        items = []
        for i, art in enumerate(_articles(articles)):
            path = f"/a/{i}.html"
            page = article_page(
                art["title"], split_paragraphs(art["content"]), outlet=art["source"], url=web.url(path), style=i % 6
            )
            web.routes[path] = Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
            items.append((art["title"], web.url(path)))
        web.routes["/feed.xml"] = Response(200, _rss(items), {"Content-Type": "application/rss+xml"})
        config_path = workdir / "config.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "storage": f"sqlite:///{workdir / 'crash.db'}",
                    "defaults": {"interval": "2s", "jitter": 0, "backfill": "off"},  # undated items
                    "notify": {"telegram_api_url": tg.base_url},
                    "fetch": {"allow_private_networks": True},  # the test servers listen on 127.0.0.1
                    "feeds": [{"name": "SNN", "url": web.url("/feed.xml")}],
                    "channels": {"tg": {"urls": f"tgram://{TOKEN}/4242", "rate": "5/s"}},
                    "topics": [
                        {"id": "any-news", "name": "أخبار", "any": [TERM], "min_score": 0, "notify": ["tg"]}
                    ],  # every mention: keep alerts flowing,
                },
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        env["PYTHONPATH"] = str(ROOT)
        cmd = [sys.executable, "-m", "monitor", "--config", str(config_path), "--log-level", "WARNING", "run"]

        def sends() -> int:
            return sum(1 for c in list(tg.calls) if c.method == "sendMessage")

        in_flight = 0
        for k in range(kills):
            proc = subprocess.Popen(cmd, env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            before = sends()
            if rnd.random() < 0.6:  # just after this run's first send: alerts in flight
                waited = 0.0
                while sends() == before and proc.poll() is None and waited < 30:
                    time.sleep(0.01)
                    waited += 0.01
                time.sleep(rnd.uniform(0.0, 0.8))
                in_flight += sends() > before
            else:  # anywhere: start-up, polling, extracting, storing
                time.sleep(rnd.uniform(0.2, 4.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            log(f"kill {k + 1}/{kills}: messages so far {len(tg.messages)}")
        errlog = workdir / "last-run.log"
        with errlog.open("w") as err:
            proc = subprocess.Popen(cmd, env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=err)
        # Every listed item (one URL each) becomes an article: a repeated headline is not
        # identity (issue 12); copies of one text are grouped below.
        distinct = len({url for _, url in items})
        store = Store(f"sqlite:///{workdir / 'crash.db'}")
        try:
            while True:  # until every item is processed and the outbox is empty
                counts = store.counts()
                ledger = store.item_counts()
                done = counts["articles"] >= distinct and counts["alerts_pending"] == 0
                if done and ledger["pending"] == 0 and sum(ledger.values()) >= distinct:
                    break
                if proc.poll() is not None:
                    raise RuntimeError(f"daemon exited: {errlog.read_text()[-2000:]}")
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
            alerts = store.list_alerts(limit=100_000)
            matcher = compile_topics(load_config(config_path, env={}).rules())
            stored = list(store.articles_since(store_epoch()))
        finally:
            store.close()
        # Copies of one wire story (monitor.dedup.neardup) make one alert: count per copy group,
        # identified by its first article (story_articles.copy_of).
        with sqlite3.connect(workdir / "crash.db") as db:
            copy_of = dict(db.execute("SELECT article_id, copy_of FROM story_articles WHERE copy_of IS NOT NULL"))
        group = {a.id: copy_of.get(a.id, a.id) for a in stored}
        by_url = {a.url: group[a.id] for a in stored}
        expected = {group[a.id] for a in stored if matcher.match(a.title, a.body)}
        seen = collections.Counter(g for m in tg.messages for u, g in by_url.items() if u in m.visible_text)
        alerted = {group.get(x.article_id, x.article_id) for x in alerts}
        lost = len(expected - set(seen)) + len(expected - alerted)
        duplicates = sum(n - 1 for n in seen.values())
        return CrashResult(
            kills,
            in_flight,
            len(alerts),
            len(expected),
            len(seen),
            lost,
            duplicates,
            time.monotonic() - started,
            ledger_open=distinct - sum(n for state, n in ledger.items() if state != "pending"),
        )


def store_epoch():
    from datetime import datetime

    return datetime(1970, 1, 1, tzinfo=UTC)
