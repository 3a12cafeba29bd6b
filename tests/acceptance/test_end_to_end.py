"""`monitor once` as a user runs it, against real local servers and real corpus text.

A WebServer on 127.0.0.1 serves two feeds (RSS 2.0 and Atom) and full article
pages: the three seed reports on the Russia–North Korea treaty (which must
alert) and real SaudiNewsNet articles about Russia alone (which must not),
all wrapped in page chrome whose related-story blocks name the watched words.
Alerts must reach the aiosmtpd server and the fake Telegram Bot API through
apprise, once each, and a second run must send nothing new.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from pathlib import Path

import pytest
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
from tests.support.telegram import TelegramReply
from tests.support.web import Response

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """RSS 2.0 with (title, link, guid) items."""
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(l)}</link>"
        f"<guid isPermaLink=\"false\">{html.escape(g)}</guid>"
        f"<pubDate>Fri, 21 Jun 2024 10:00:00 GMT</pubDate></item>"
        for t, l, g in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>أخبار</title>'
        f"<link>http://example.invalid/</link><description>x</description>{entries}</channel></rss>"
    ).encode()


def atom(items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(
        f'<entry><title>{html.escape(t)}</title><link href="{html.escape(l)}"/><id>{html.escape(g)}</id>'
        f"<updated>2024-06-21T10:00:00Z</updated></entry>"
        for t, l, g in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>أخبار</title><id>urn:x</id><updated>2024-06-21T10:00:00Z</updated>{entries}</feed>"
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


@pytest.fixture
def site(web_server):
    """Serve the pages and two feeds; return (web_server, expected alert URLs)."""
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


def run_monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env.update(TG_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=config.parent,
    )


def test_once_alerts_each_matching_article_once(tmp_path, site, smtp_server, fake_telegram_unpatched):
    web, expected = site
    telegram = fake_telegram_unpatched
    config = write_config(tmp_path, web, smtp_server, telegram)

    first = run_monitor(config, "once")
    assert first.returncode == 0, first.stderr
    assert "Broken: FAILED" in first.stdout  # a failing feed is reported, not fatal
    assert TOKEN not in first.stderr + first.stdout  # the bot token never reaches a log line

    # One Telegram message and one email per seed report; none for Russia-only news.
    tg_urls = sorted(u for m in telegram.messages for u in expected if u in m.text)
    assert tg_urls == sorted(expected), [m.visible_text[:200] for m in telegram.messages]
    assert len(telegram.messages) == 3
    assert all(m.parse_mode == "HTML" for m in telegram.messages)
    mails = smtp_server.messages
    assert len(mails) == 3
    for mail in mails:
        assert "\n" not in mail.message["Subject"] and "\r" not in mail.message["Subject"]
        html_part = mail.message.get_body(("html",)).get_content()
        text_part = mail.message.get_body(("plain",)).get_content()
        assert 'dir="rtl"' in html_part
        assert "Outlet A" in text_part
        assert any(u in html_part for u in expected)

    # The alert names the topic and the matched terms.
    topic_name = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["topics"][0]["name"]
    assert all(topic_name in m.visible_text for m in telegram.messages)
    assert any("بيونغ يانغ" in m.visible_text or "بيونج يانج" in m.visible_text for m in telegram.messages)

    # Re-polling sends nothing new, and pages already processed are not fetched again.
    page_hits = len(web.requests_for("/news/seed-1.html"))
    second = run_monitor(config, "once")
    assert second.returncode == 0, second.stderr
    assert len(telegram.messages) == 3 and len(smtp_server.messages) == 3
    assert len(web.requests_for("/news/seed-1.html")) == page_hits


def test_failed_send_is_kept_and_retried(tmp_path, site, smtp_server, fake_telegram_unpatched):
    web, expected = site
    telegram = fake_telegram_unpatched
    config = write_config(tmp_path, web, smtp_server, telegram)
    # Telegram is down for the whole first pass.
    telegram.queue(*[TelegramReply.error(502, "Bad Gateway")] * 3)

    first = run_monitor(config, "once")
    assert first.returncode == 0, first.stderr
    assert len(telegram.messages) == 0
    assert len(smtp_server.messages) == 3  # one failing channel does not hold back another
    assert "retrying=3" in first.stdout

    second = run_monitor(config, "once")
    assert second.returncode == 0, second.stderr
    assert len(telegram.messages) == 3
    assert len(smtp_server.messages) == 3


def test_check_reports_every_problem_with_its_path(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text(
        "feeds:\n  - name: a\n    url: ftp://example.com/feed\n    interval: soon\n"
        "channels:\n  tg: tgram://${MISSING_TOKEN}/1\n"
        "topics:\n  - id: t\n    name: T\n    all: [[روسيا], []]\n    notify: [tg]\n    colour: red\n",
        encoding="utf-8",
    )
    result = run_monitor(bad, "check")
    assert result.returncode == 2
    for expected in (
        "feeds[0].url",
        "feeds[0].interval",
        "topics[0].all[1]: must not be empty",
        "topics[0].colour: unknown key",
        "MISSING_TOKEN",
    ):
        assert expected in result.stderr, result.stderr


def test_check_accepts_the_shipped_config():
    env = dict(
        os.environ,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_CHAT_ID="1",
        SMTP_USER="u",
        SMTP_PASSWORD="secret-password",
        SMTP_HOST="smtp.example.com",
        ALERT_FROM="monitor@example.com",
        ALERT_TO="me@example.com",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(ROOT / "config.yaml"), "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "russia-north-korea" in result.stdout
    assert TOKEN not in result.stdout and "secret-password" not in result.stdout
