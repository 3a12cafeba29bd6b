"""The test servers work, and with the real apprise (documents what apprise
2.2.0 actually sends, so the product can rely on it)."""

import json
import logging
import socket
import time
import urllib.error
import urllib.request

import apprise
import pytest
from apprise.plugins.telegram import NotifyTelegram

from tests.support.telegram import FakeTelegram, TelegramReply, check_telegram_html
from tests.support.web import Response, conditional, sequence

TG_URL = "tgram://123456:ABCDEF/987654"
HTML = apprise.NotifyFormat.HTML

TITLE = "خبر عاجل <تحديث> & متابعة"
BODY = (
    "انفجار في <b>بيروت</b> — "
    '<a href="https://example.com/news?id=1&amp;lang=ar">التفاصيل</a> '
    "&lt;مصدر&gt; وكالة الأنباء"
)


def http(url, method="GET", headers=None, data=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def notify(url, body=BODY, title=TITLE, body_format=HTML):
    """Send through a fresh Apprise; return (result, captured log text)."""
    obj = apprise.Apprise()
    assert obj.add(url), url
    with apprise.LogCapture(level=logging.DEBUG) as logs:
        result = obj.notify(body=body, title=title, body_format=body_format)
    return result, logs.getvalue()


# --------------------------------------------------------------------------
# WebServer
# --------------------------------------------------------------------------


def test_web_server_routes_and_records_requests(web_server):
    web_server.routes["/feed.xml"] = Response(200, "<rss/>", {"Content-Type": "application/rss+xml"})
    web_server.routes["/echo"] = lambda req: Response(201, req.body[::-1], {"X-Method": req.method})
    web_server.routes["/page?p=2"] = "page two"

    status, headers, body = http(web_server.url("/feed.xml"), headers={"If-None-Match": '"v1"'})
    assert (status, body) == (200, b"<rss/>")
    assert headers["Content-Type"] == "application/rss+xml"

    assert http(web_server.url("/echo"), "POST", data=b"abc")[::2] == (201, b"cba")
    assert http(web_server.url("/page?p=2"))[2] == b"page two"
    assert http(web_server.url("/missing"))[0] == 404

    first = web_server.requests[0]
    assert (first.method, first.path) == ("GET", "/feed.xml")
    assert first.headers["if-none-match"] == '"v1"'  # case-insensitive
    assert web_server.requests_for("/echo")[0].body == b"abc"
    assert web_server.requests_for("/page")[0].query == {"p": ["2"]}
    assert [r.url_path for r in web_server.requests] == [
        "/feed.xml", "/echo", "/page", "/missing",
    ]  # fmt: skip


def test_web_server_conditional_sequence_slow_and_drop(web_server):
    web_server.routes["/c"] = conditional(
        Response(200, b"body", {"ETag": '"v1"',
                                "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"})
    )  # fmt: skip
    assert http(web_server.url("/c"))[0] == 200
    assert http(web_server.url("/c"), headers={"If-None-Match": '"v1"'})[0] == 304
    assert http(web_server.url("/c"), headers={"If-None-Match": '"v0"'})[0] == 200
    assert (
        http(
            web_server.url("/c"),
            headers={"If-Modified-Since": "Tue, 02 Jan 2024 00:00:00 GMT"},
        )[0]
        == 304
    )

    web_server.routes["/s"] = sequence(Response(503), Response(200, b"ok"))
    assert [http(web_server.url("/s"))[0] for _ in range(3)] == [503, 200, 200]

    web_server.routes["/slow"] = Response(200, b"late", delay=0.3)
    start = time.monotonic()
    assert http(web_server.url("/slow"))[2] == b"late"
    assert time.monotonic() - start >= 0.3

    web_server.routes["/drop"] = Response(drop=True)
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(web_server.url("/drop"), timeout=5)


def test_servers_stop_cleanly():
    fake = FakeTelegram()
    with fake:
        port = fake.port
        assert http(fake.url("/bot1:x/getMe"))[0] == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --------------------------------------------------------------------------
# FakeTelegram + apprise
# --------------------------------------------------------------------------


def test_telegram_api_base_override(fake_telegram):
    # apprise builds f"{NotifyTelegram.notify_url}{token}/{method}".
    assert fake_telegram.api_url == f"http://127.0.0.1:{fake_telegram.port}/bot"
    assert NotifyTelegram.notify_url == fake_telegram.api_url


def test_unpatched_fixture_leaves_and_restores_apprise(fake_telegram_unpatched):
    assert NotifyTelegram.notify_url == "https://api.telegram.org/bot"
    # What the product's notify.telegram_api_url setting will do:
    NotifyTelegram.notify_url = fake_telegram_unpatched.api_url
    assert notify(TG_URL)[0]
    assert len(fake_telegram_unpatched.messages) == 1
    # (the fixture restores the original value on teardown)


def test_telegram_html_notification_via_apprise(fake_telegram):
    result, logs = notify(TG_URL)
    assert result, logs

    [msg] = fake_telegram.messages
    assert msg.token == "123456:ABCDEF"
    assert msg.chat_id == 987654
    assert msg.parse_mode == "HTML"
    assert msg.reply_to_message_id is None
    assert msg.disable_web_page_preview is True  # apprise default preview=no
    assert msg.disable_notification is False
    # The title is escaped as text, bolded and put on its own line (CRLF);
    # the body's Telegram-compatible HTML passes through unchanged.
    assert msg.text == (
        "<b>خبر عاجل &lt;تحديث&gt; &amp; متابعة</b>\r\n"
        "انفجار في <b>بيروت</b> — "
        '<a href="https://example.com/news?id=1&amp;lang=ar">التفاصيل</a> '
        "&lt;مصدر&gt; وكالة الأنباء"
    )
    assert msg.visible_text == ("خبر عاجل <تحديث> & متابعة\r\nانفجار في بيروت — التفاصيل <مصدر> وكالة الأنباء")
    [call] = fake_telegram.calls
    assert call.method == "sendMessage"
    assert call.headers["Content-Type"] == "application/json"


def test_telegram_reduces_unsupported_html(fake_telegram):
    body = (
        "<p>فقرة</p><div>قسم</div><h2>عنوان</h2><ul><li>أ</li><li>ب</li></ul>"
        "سطر<br/>جديد <strong>قوي</strong> <em>مائل</em> <span>x</span>"
    )
    result, logs = notify(TG_URL, body=body, title="")
    assert result, logs
    # p/div/br -> line breaks, headings -> bold line, li -> "- ",
    # strong/em -> b/i, unknown tags dropped (text kept).
    assert fake_telegram.messages[0].text == (
        "فقرة\r\nقسم\r\n<b>عنوان</b>\r\n- أ\r\n- ب\r\nسطر\r\nجديد <b>قوي</b> <i>مائل</i> x"
    )


def test_telegram_long_messages_are_not_split_by_default(fake_telegram):
    body = "<b>خبر</b> " + "كلمة " * 1000  # > 4096 characters
    result, logs = notify(TG_URL, body=body)
    # overflow=upstream (default): sent whole, the API refuses it.
    assert not result
    assert fake_telegram.calls[-1].status == 400
    assert "message is too long, error=400" in logs

    result, logs = notify(TG_URL + "?overflow=split", body=body)
    assert result, logs
    texts = [m.text for m in fake_telegram.messages]
    # With overflow=split the title goes alone first, then <=4096 pieces.
    assert texts[0] == "<b>خبر عاجل &lt;تحديث&gt; &amp; متابعة</b>"
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)


def test_telegram_owner_detection_uses_get_updates(fake_telegram):
    fake_telegram.add_user_update(555, "مستخدم")
    result, logs = notify("tgram://123456:ABCDEF", body="مرحبا")
    assert result, logs
    assert [c.method for c in fake_telegram.calls] == ["getUpdates", "sendMessage"]
    # apprise sends a detected owner id as a *string* chat_id.
    assert fake_telegram.messages[0].chat_id == "555"


def test_telegram_429_and_400_are_observable(fake_telegram):
    fake_telegram.queue(TelegramReply.flood(retry_after=3), TelegramReply.chat_not_found())

    result, logs = notify(TG_URL)
    assert not result  # AppriseResult is falsy on failure
    assert result.status == apprise.AppriseResultStatus.FAILURE
    assert (
        "WARNING - Failed to send Telegram notification to 987654: Too Many Requests: retry after 3, error=429." in logs
    )
    # The raw JSON (incl. parameters.retry_after) is only logged at DEBUG.
    assert '"retry_after": 3' in logs
    # The same warning is kept on the structured result.
    [service] = result.results
    assert [(e.level, e.message) for e in service.logs()] == [
        (
            "WARNING",
            "Failed to send Telegram notification to 987654: Too Many Requests: retry after 3, error=429.",
        )
    ]

    result, logs = notify(TG_URL)
    assert not result
    assert "Failed to send Telegram notification to 987654: Bad Request: chat not found, error=400." in logs

    assert [c.status for c in fake_telegram.calls] == [429, 400]
    assert fake_telegram.messages == []

    # Unscripted again: delivered.
    assert notify(TG_URL)[0]
    assert len(fake_telegram.messages) == 1


def test_telegram_401_drop_slow_and_apprise_retry(fake_telegram):
    fake_telegram.queue(TelegramReply.unauthorized())
    result, logs = notify(TG_URL)
    assert not result and "Unauthorized, error=401." in logs

    fake_telegram.queue(TelegramReply.drop_connection())
    result, logs = notify(TG_URL)
    assert not result
    assert "A connection error occurred sending Telegram:987654" in logs
    assert "Remote end closed connection without response" in logs

    fake_telegram.queue(TelegramReply.slow(2))
    result, logs = notify(TG_URL + "?rto=0.5")  # rto = read timeout (s)
    assert not result and "Read timed out" in logs

    # apprise's own ?retry=N re-sends after ?wait= seconds (default 0.5);
    # it ignores retry_after.
    fake_telegram.queue(TelegramReply.flood(retry_after=30))
    result, logs = notify(TG_URL + "?retry=1&wait=0")
    assert result
    assert len(result.results[0].attempts) == 2
    assert [c.status for c in fake_telegram.calls][-2:] == [429, 200]


def test_fake_telegram_rejects_like_the_real_api(fake_telegram):
    url = fake_telegram.api_url + "123456:ABCDEF/sendMessage"

    def post(payload):
        status, _, body = http(
            url,
            "POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps(payload).encode(),
        )
        return status, json.loads(body)

    status, body = post({"chat_id": 1, "text": "<div>x</div>", "parse_mode": "HTML"})
    assert status == 400 and body["description"].startswith(
        "Bad Request: can't parse entities: Unsupported start tag \"div\""
    )
    status, body = post({"chat_id": 1, "text": "<b>x", "parse_mode": "HTML"})
    assert status == 400 and "Can't find end tag" in body["description"]
    status, body = post({"chat_id": 1, "text": "a < b", "parse_mode": "HTML"})
    assert status == 400
    status, body = post({"chat_id": 1, "text": "   "})
    assert body["description"] == "Bad Request: message text is empty"

    # Form-encoded bodies and reply_to_message_id are understood too.
    status, _, raw = http(
        url,
        "POST",
        data=b"chat_id=-100123&text=%D9%85%D8%B1%D8%AD%D8%A8%D8%A7&reply_to_message_id=7",
    )
    assert status == 200
    result = json.loads(raw)
    assert result["ok"] is True and result["result"]["text"] == "مرحبا"
    msg = fake_telegram.messages[-1]
    assert (msg.chat_id, msg.reply_to_message_id) == (-100123, 7)

    assert check_telegram_html('<a href="x">y</a> &amp; &#1575;') == (None, "y & ا")


# --------------------------------------------------------------------------
# SmtpServer + apprise
# --------------------------------------------------------------------------


def test_email_html_notification_via_apprise(smtp_server):
    url = smtp_server.apprise_url(
        to="reader@example.com",
        sender="monitor@example.com",
        headers={"X-Alert-Id": "42", "Message-ID": "<alert-42@monitor.test>"},
    )
    assert url == (
        f"mailto://127.0.0.1:{smtp_server.port}?from=monitor%40example.com"
        "&to=reader%40example.com&%2BX-Alert-Id=42"
        "&%2BMessage-ID=%3Calert-42%40monitor.test%3E"
    )
    result, logs = notify(url)
    assert result, logs

    [mail] = smtp_server.messages
    assert mail.mail_from == "monitor@example.com"
    assert mail.rcpt_tos == ["reader@example.com"]
    msg = mail.message
    assert msg["Subject"] == TITLE  # raw title, not escaped
    assert msg["From"] == "monitor@example.com"
    assert msg["To"] == "reader@example.com"
    assert msg["X-Alert-Id"] == "42"
    assert msg["X-Application"] == "Apprise"
    # +Message-ID does NOT replace apprise's own: the message carries two.
    ids = msg.get_all("Message-ID")
    assert ids[0] == "<alert-42@monitor.test>"
    assert len(ids) == 2 and ids[1].endswith("@127.0.0.1>")

    # HTML format -> multipart/alternative with text/plain then text/html.
    assert msg.get_content_type() == "multipart/alternative"
    plain, html_part = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "text/html"
    # The HTML part is the body as given (no title, no <html> wrapper).
    assert html_part.get_content() == BODY
    # The text part is derived from the HTML: tags stripped, entities
    # decoded -- and the link's URL is lost.
    assert plain.get_content().strip() == ("انفجار في بيروت — التفاصيل <مصدر> وكالة الأنباء")
    assert smtp_server.auth_attempts == []  # no credentials, no AUTH


def test_email_with_credentials_uses_auth(smtp_server):
    url = smtp_server.apprise_url(user="bot", password="s3cret")
    assert url.startswith(f"mailto://bot:s3cret@127.0.0.1:{smtp_server.port}?")
    result, logs = notify(url)
    assert result, logs
    assert smtp_server.auth_attempts == [("PLAIN", "bot", "s3cret")]
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize(
    "code, stage, logged",
    [
        (451, "data", "Socket Exception: (451, b'4.3.0"),
        (550, "data", "Socket Exception: (550, b'5.1.1"),
        (550, "rcpt", "Socket Exception: {'user@example.com': (550, b'5.1.1"),
    ],
)
def test_email_refusals_are_observable(smtp_server, code, stage, logged):
    smtp_server.refuse_next(1, code=code, stage=stage)
    result, logs = notify(smtp_server.apprise_url())
    assert not result
    # The warning has no SMTP code; the code is only in the DEBUG line.
    assert 'WARNING - Sending email to "user@example.com" failed.' in logs
    assert logged in logs
    assert smtp_server.messages == []
    assert [(s, c) for s, c, _ in smtp_server.refused] == [(stage, code)]

    # Only the next message was refused.
    assert notify(smtp_server.apprise_url())[0]
    assert len(smtp_server.messages) == 1
