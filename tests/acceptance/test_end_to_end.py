"""`monitor once` as a user runs it, against real local servers and real corpus text.

A WebServer on 127.0.0.1 serves two feeds (RSS 2.0 and Atom) and full article
pages: the three seed reports on the Russia–North Korea treaty (which must
alert) and real SaudiNewsNet articles about Russia alone (which must not),
all wrapped in page chrome whose related-story blocks name the watched words.
Alerts must reach the aiosmtpd server and the fake Telegram Bot API through
apprise, once each, and a second run must send nothing new.
"""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from tests.support.site import ROOT, TOKEN, run_monitor, write_config
from tests.support.telegram import TelegramReply


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
