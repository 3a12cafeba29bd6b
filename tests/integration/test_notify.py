"""monitor.delivery.notify against the real local fixtures (FakeTelegram, SmtpServer)."""

from __future__ import annotations

import json
import logging
import os

import pytest
from apprise.plugins.telegram import NotifyTelegram

from monitor.delivery import notify
from monitor.delivery.failures import SendResult
from monitor.delivery.render import render_alert, render_test_message
from monitor.models import Article, Match, TermHit
from tests.support.telegram import TelegramReply

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
TOKEN = "123456:AAHsecretTOKENvalue_-xyz"
TG_URL = f"tgram://{TOKEN}/987654"
PASSWORD = "s3cr3t-Pa55"


def _row() -> dict:
    path = os.path.join(FIXTURES, "saudinewsnet", "2015-07-21.jsonl")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if "كوريا" in row["title"]:
                return row
    raise LookupError


ROW = _row()


def _alert(kind: str):
    content = ROW["content"]
    start = content.find("كوريا")
    article = Article(url=ROW["url"], url_key=ROW["url"], feed=ROW["source"], title=ROW["title"], body=content)
    hit = TermHit("كوريا", "كوريا", "body", 0, max(start, 0), max(start, 0) + 5, "any")
    match = Match("korea", "كوريا الشمالية", (hit,), " ".join(content[:300].split()))
    return render_alert(article, match, outlet="الشرق الأوسط", channel_kind=kind)


def _no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (TOKEN, "AAHsecretTOKENvalue", PASSWORD, TG_URL):
            assert secret not in text, (secret, text)


class _RootLog(logging.Handler):
    """Every record that reaches the root logger's handlers (where the daemon's stderr
    handler sits). Not pytest's rootlog: newer pytest versions also capture loggers that
    do not propagate (apprise's), which never reach a root handler in the daemon."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def text(self) -> str:
        return "\n".join(f"{r.levelname} {r.name} {r.getMessage()}" for r in self.records)


@pytest.fixture
def rootlog():
    # capture everything, DEBUG included, to prove no secret leaks anywhere
    handler, root = _RootLog(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


# --------------------------------------------------------------------------
# configure (channel kinds: tests/unit/test_channel_kinds.py)
# --------------------------------------------------------------------------


def test_configure_points_apprise_at_the_fake(fake_telegram_unpatched, rootlog):
    fake = fake_telegram_unpatched
    assert NotifyTelegram.notify_url == "https://api.telegram.org/bot"
    notify.configure(fake.base_url + "/")  # server base
    assert NotifyTelegram.notify_url == fake.api_url
    notify.configure(fake.api_url)  # ".../bot" is accepted too
    assert NotifyTelegram.notify_url == fake.api_url

    result = notify.send("tg", [TG_URL], render_test_message("telegram"), kind="telegram")
    assert result == SendResult(True)
    [msg] = fake.messages
    assert msg.token == TOKEN and msg.chat_id == 987654
    assert "monitor" in msg.visible_text

    notify.configure(None)
    assert NotifyTelegram.notify_url == "https://api.telegram.org/bot"
    _no_secret(rootlog.text)


# --------------------------------------------------------------------------
# delivery
# --------------------------------------------------------------------------


def test_telegram_delivered(fake_telegram, rootlog):
    alert = _alert("telegram")
    result = notify.send("tg", [TG_URL], alert, kind="telegram")
    assert result.ok and result.error == "" and not result.permanent
    [msg] = fake_telegram.messages
    assert msg.parse_mode == "HTML"
    assert not msg.text.startswith("<b></b>")  # no empty apprise title
    assert msg.text.startswith("\u200f<b>الشرق الأوسط</b>")
    assert ROW["title"] in msg.visible_text
    assert ROW["url"] in msg.visible_text
    _no_secret(rootlog.text)


def test_email_delivered_multipart_rtl(smtp_server, rootlog):
    alert = _alert("email")
    url = smtp_server.apprise_url(to="reader@example.com", user="bot", password=PASSWORD)
    result = notify.send("mail", [url], alert, kind="email")
    assert result.ok, result.error
    [mail] = smtp_server.messages
    msg = mail.message
    assert msg["Subject"] == f"[monitor] كوريا الشمالية: {ROW['title']}"
    assert msg.get_content_type() == "multipart/alternative"
    plain, html_part = list(msg.iter_parts())
    assert html_part.get_content_type() == "text/html"
    assert html_part.get_content().startswith('<div dir="rtl" lang="ar"')
    text = plain.get_content()
    assert ROW["title"] in text
    assert ROW["url"] in text.splitlines()  # the URL survives in the derived text part
    assert smtp_server.auth_attempts == [("PLAIN", "bot", PASSWORD)]
    _no_secret(rootlog.text)


def test_other_kind_sends_text(smtp_server):
    # an "other" channel (here a mailto URL inside a mixed channel) gets alert.text
    alert = _alert("other")
    result = notify.send("mixed", [smtp_server.apprise_url()], alert, kind="other")
    assert result.ok, result.error
    msg = smtp_server.messages[0].message
    assert msg.get_content_type() == "text/plain"
    assert ROW["url"] in msg.get_content()


# --------------------------------------------------------------------------
# failure classification
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, permanent, retry_after, needle",
    [
        (TelegramReply.flood(retry_after=3), False, 3.0, "error=429"),
        (TelegramReply.chat_not_found(), True, None, "chat not found"),
        (TelegramReply.unauthorized(), True, None, "error=401"),
        (TelegramReply.forbidden(), True, None, "error=403"),
        (TelegramReply.error(500, "Internal Server Error"), False, None, "error=500"),
        (TelegramReply.drop_connection(), False, None, "connection error"),
    ],
    ids=["429", "400", "401", "403", "500", "drop"],
)
def test_telegram_failures_are_classified(fake_telegram, rootlog, reply, permanent, retry_after, needle):
    fake_telegram.queue(reply)
    result = notify.send("tg", [TG_URL], _alert("telegram"), kind="telegram")
    assert result.ok is False
    assert result.permanent is permanent
    assert result.retry_after == retry_after
    assert result.failed == (0,)
    assert needle in result.error
    assert result.error.startswith("tg tgram: ")
    _no_secret(result.error, rootlog.text)
    # the next call goes through again
    assert notify.send("tg", [TG_URL], _alert("telegram"), kind="telegram").ok


@pytest.mark.parametrize(
    "code, stage, permanent", [(451, "data", False), (550, "data", True), (550, "rcpt", True), (421, "mail", False)]
)
def test_smtp_failures_are_classified(smtp_server, rootlog, code, stage, permanent):
    smtp_server.refuse_next(1, code=code, stage=stage)
    url = smtp_server.apprise_url(user="bot", password=PASSWORD)
    result = notify.send("mail", [url], _alert("email"), kind="email")
    assert result.ok is False
    assert result.permanent is permanent
    assert result.retry_after is None
    assert str(code) in result.error
    _no_secret(result.error, rootlog.text)


def test_smtp_connection_refused_is_transient(rootlog):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"mailto://bot:{PASSWORD}@127.0.0.1:{port}?from=monitor@example.com&to=a@example.com"
    result = notify.send("mail", [url], _alert("email"), kind="email")
    assert not result.ok and not result.permanent
    _no_secret(result.error, rootlog.text)


def test_one_failing_target_is_identified(fake_telegram, rootlog):
    fake_telegram.queue(TelegramReply.chat_not_found())
    other = f"tgram://{TOKEN}/555"
    result = notify.send("tg", [TG_URL, other], _alert("telegram"), kind="telegram")
    assert not result.ok and result.permanent
    assert result.failed == (0,)
    assert result.error.startswith("tg[0] tgram: ")
    assert [m.chat_id for m in fake_telegram.messages] == [555]
    _no_secret(result.error, rootlog.text)


def test_transient_wins_over_permanent(fake_telegram):
    fake_telegram.queue(TelegramReply.chat_not_found(), TelegramReply.flood(retry_after=7))
    result = notify.send("tg", [TG_URL, f"tgram://{TOKEN}/555"], _alert("telegram"), kind="telegram")
    assert not result.ok and not result.permanent and result.retry_after == 7.0
    assert result.failed == (0, 1)


def test_invalid_url_is_permanent_and_redacted(rootlog):
    url = f"mailto://bot:{PASSWORD}@127.0.0.1:1?from=not-an-address&to=x"
    result = notify.send("mail", [url, "nosuchscheme://" + PASSWORD], _alert("email"), kind="other")
    assert not result.ok and result.permanent
    _no_secret(result.error, rootlog.text)
    assert PASSWORD not in result.error


def test_apprise_logs_do_not_reach_root_unredacted(fake_telegram, rootlog):
    # apprise's DEBUG lines contain the Bot API URL with the token; they stay
    # inside apprise; its warnings are re-logged redacted on monitor.notify.
    fake_telegram.queue(TelegramReply.unauthorized())
    notify.send("tg", [TG_URL], _alert("telegram"), kind="telegram")
    assert not any(r.name == "apprise" for r in rootlog.records)
    warnings = [r for r in rootlog.records if r.name == "monitor.delivery.notify"]
    assert warnings and "Unauthorized" in warnings[0].getMessage()
    _no_secret(rootlog.text)


def test_redact():
    from monitor.redact import add_urls, redact

    add_urls([TG_URL, f"mailto://bot:{PASSWORD}@h?to=a@b.c"])
    text = f"POST http://x/bot{TOKEN}/sendMessage {TG_URL} pw={PASSWORD}"
    out = redact(text)
    _no_secret(out)
    assert "/bot***/sendMessage" in out
