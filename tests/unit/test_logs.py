"""Secrets never reach a log line: apprise URLs, tokens in httpx request lines, ${VAR} values."""

from __future__ import annotations

import logging

import pytest

from monitor.service import logs

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.mark.parametrize(
    "line, secret",
    [
        (f'HTTP Request: POST https://api.telegram.org/bot{TOKEN}/sendMessage "HTTP/1.1 200 OK"', TOKEN),
        (f"tgram://{TOKEN}/-100123", TOKEN),
        ("mailtos://alerts%40example.org:hunter22@smtp.example.org:587?from=a@b.c", "hunter22"),
        ("mailtos://alerts%40example.org:hunter22@smtp.example.org:587?from=a@b.c", "alerts%40example.org"),
        ("failed to send to discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "JHMHI8qBe7bk2ZwO5U711o3dV_js"),
        ("json+https://user:pw-value@hooks.example.org/x", "pw-value"),
    ],
)
def test_secret_parts_are_redacted(line, secret):
    assert secret not in logs.RedactingFilter().redact(line)


@pytest.mark.parametrize(
    "line",
    [
        "store sqlite:////var/lib/monitor/monitor.db: database is locked",
        "cannot open store postgresql+psycopg://monitor@127.0.0.1:5432/test: refused",
        "GET https://feeds.example.org/rss?x=1: HTTP 500",
        "feed polled feed=BBC items=20 new=2 matched=0 at 12:30:45",
    ],
)
def test_ordinary_lines_are_kept(line):
    assert logs.RedactingFilter().redact(line) == line


def test_library_request_lines_are_redacted_even_when_chatty(capsys):
    """Whatever level httpx logs at, its request line with the bot token is redacted."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.setup("DEBUG", secrets=["s3cret-from-env"])
        logging.getLogger("httpx").setLevel(logging.INFO)  # as if a user turned it up
        logging.getLogger("httpx").info(
            'HTTP Request: POST %s "HTTP/1.1 200 OK"', f"https://api.telegram.org/bot{TOKEN}/sendMessage"
        )
        logging.getLogger("monitor.x").warning("send failed url=%s", "mailtos://u:s3cret-from-env@h")
        err = capsys.readouterr().err
    finally:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        for h in root.handlers[:]:
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    assert "HTTP Request: POST https://api.telegram.org/bot***/sendMessage" in err
    assert TOKEN not in err and "s3cret-from-env" not in err


def test_under_systemd_lines_carry_a_priority_prefix_and_no_timestamp(capsys, monkeypatch):
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.setup("INFO")
        logging.getLogger("monitor.service.daemon").error("reload refused problems=%d", 2)
        logging.getLogger("monitor.service.daemon").info("daemon started feeds=%d", 3)
        err = capsys.readouterr().err
    finally:
        for h in root.handlers[:]:
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    assert err.splitlines() == [
        "<3>ERROR monitor.service.daemon reload refused problems=2",
        "<6>INFO monitor.service.daemon daemon started feeds=3",
    ]
