"""A site of two feeds of real pages, and `monitor` run as a user runs it.

:func:`serve_site` puts on a WebServer two feeds (RSS 2.0 and Atom) and full article
pages: the three seed reports on the Russia–North Korea treaty (which must alert)
and real SaudiNewsNet articles about Russia alone (which must not), all wrapped in
page chrome whose related-story blocks name the watched words. :func:`write_config`
writes a config for it (the shipped example topics) and :func:`run_monitor` runs
``python -m monitor`` on that config in a subprocess. The ``site`` fixture in
tests/conftest.py serves it on the ``web_server`` fixture.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import yaml

from tests.support.corpus_pages import (
    CHROME_WORDS,
    article_page,
    saudinewsnet_articles,
    seed_page,
    seed_reports,
    split_paragraphs,
    titles_mentioning,
)
from tests.support.web import Response, WebServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def fresh() -> datetime:
    """An hour before now: the site's items are news, inside the default backfill window
    (`defaults.backfill`, one day), so a first poll alerts them as a user's first run would."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """RSS 2.0 with (title, link, guid) items, published an hour ago (`fresh`)."""
    when = format_datetime(fresh(), usegmt=True)
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(l)}</link>"
        f"<guid isPermaLink=\"false\">{html.escape(g)}</guid>"
        f"<pubDate>{when}</pubDate></item>"
        for t, l, g in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>أخبار</title>'
        f"<link>http://example.invalid/</link><description>x</description>{entries}</channel></rss>"
    ).encode()


def atom(items: list[tuple[str, str, str]]) -> bytes:
    """Atom with (title, link, id) entries, updated an hour ago (`fresh`)."""
    when = f"{fresh():%Y-%m-%dT%H:%M:%SZ}"
    entries = "".join(
        f'<entry><title>{html.escape(t)}</title><link href="{html.escape(l)}"/><id>{html.escape(g)}</id>'
        f"<updated>{when}</updated></entry>"
        for t, l, g in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>أخبار</title><id>urn:x</id><updated>{when}</updated>{entries}</feed>"
    ).encode()


def russia_only_articles(n: int) -> list[dict]:
    """Real articles that talk about Russia but not North Korea (hard negatives)."""
    out = []
    for day in ("2015-07-21", "2015-07-22", "2015-07-23"):
        for art in saudinewsnet_articles(day):
            text = art["title"] + art["content"]
            if ("روسيا" in text or "موسكو" in text) and "كوري" not in text and len(art["content"]) > 600:
                out.append(art)
    assert len(out) >= n, "fixture excerpt has too few Russia articles"
    return out[:n]


def serve_site(web_server: WebServer) -> tuple[WebServer, list[str]]:
    """Serve the pages and two feeds on `web_server`; return (web_server, expected alert URLs):
    the three seed reports must alert, six Russia-only SaudiNewsNet articles must not,
    and /broken.xml answers 500."""
    seeds = seed_reports()
    chrome = [(t, f"/news/other-{i}") for i, t in enumerate(titles_mentioning(CHROME_WORDS)[:6])]
    feed_a, feed_b, expected = [], [], []
    for i, seed in enumerate(seeds):
        path = f"/news/seed-{i}.html"
        web_server.routes[path] = Response(
            200, seed_page(seed, style=i).encode(), {"Content-Type": "text/html; charset=utf-8"}
        )
        (feed_a if i < 2 else feed_b).append((seed.title, web_server.url(path), f"seed-{i}"))
        expected.append(web_server.url(path))
    # The same article in the second feed of one outlet, decorated for tracking.
    feed_b.append(
        (seeds[0].title, web_server.url("/news/seed-0.html?utm_source=rss&utm_medium=feed#top"), "other-guid-seed-0")
    )
    for i, art in enumerate(russia_only_articles(6)):
        path = f"/news/ru-{i}.html"
        page = article_page(
            art["title"],
            split_paragraphs(art["content"]),
            outlet=art["source"],
            url=web_server.url(path),
            related=chrome[:4],
            read_also=chrome[4:5],
            style=i % 6,
        )
        web_server.routes[path] = Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
        (feed_a if i % 2 else feed_b).append((art["title"], web_server.url(path), f"ru-{i}"))
    web_server.routes["/feed-a.xml"] = Response(200, rss(feed_a), {"Content-Type": "application/rss+xml"})
    web_server.routes["/feed-b.xml"] = Response(200, atom(feed_b), {"Content-Type": "application/atom+xml"})
    web_server.routes["/broken.xml"] = Response(500, b"oops")
    return web_server, expected


def write_config(tmp_path: Path, web, smtp, telegram) -> Path:
    shipped = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config = {
        "storage": "sqlite:///state/monitor.db",
        "defaults": {"interval": "10m", "timeout": "10s"},
        "notify": {"telegram_api_url": telegram.base_url},
        "fetch": {"allow_private_networks": True},  # the test servers listen on 127.0.0.1
        "feeds": [
            {"name": "Outlet A", "url": web.url("/feed-a.xml")},
            {"name": "Outlet A (world)", "url": web.url("/feed-b.xml"), "outlet": "Outlet A"},
            {"name": "Broken", "url": web.url("/broken.xml")},
        ],
        "channels": {"telegram": "tgram://${TG_TOKEN}/987654", "email": smtp.apprise_url(to="analyst@example.com")},
        "topics": shipped["topics"],  # the shipped example rules, unchanged
    }
    (tmp_path / "state").mkdir()
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def run_monitor(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m monitor --config CONFIG ARGS` as a user runs it (`env`: more environment variables)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}, **(env or {})}
    env.update(TG_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=config.parent,
    )
