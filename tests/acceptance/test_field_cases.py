"""Issue 12 field cases, run as a user runs them: `monitor once` on the case's own config and files
(tests/fixtures/field-cases/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from monitor.cli.main import main
from monitor.delivery.notify import configure
from monitor.delivery.outbox import target_key
from monitor.storage import Store
from tests.support.smtp import SmtpServer
from tests.support.telegram import FakeTelegram
from tests.support.web import Response

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "field-cases"


def serve_case(case: str, web, tmp_path: Path, *, edit=None, smtp_port: int | None = None) -> Path:
    """Serve the case's www/ (with {{PORT}} filled in, headers from headers.json, `edit` applied
    to each body) and a capture route; write its config with the store in tmp_path
    ({{SMTP_PORT}}: `smtp_port`). The config runs as shipped, default backfill included: the
    cases' items are dated 2015, and a first poll alerts the feed's newest day (sources/backfill)."""
    root = CASES / case
    port = web.url("/").split(":")[2].rstrip("/")
    headers = json.loads((root / "headers.json").read_text(encoding="utf-8"))
    for f in (root / "www").iterdir():
        body = f.read_bytes().replace(b"{{PORT}}", port.encode())
        body = edit(f.name, body) if edit else body
        path = f"/{f.name}"
        web.routes[path] = Response(200, body, headers.get(path, {"Content-Type": "text/html; charset=utf-8"}))
    web.routes["/json/alerts"] = Response(200, b"{}")
    text = (root / "config.yaml").read_text(encoding="utf-8").replace("{{PORT}}", port)
    text = text.replace("{{SMTP_PORT}}", str(smtp_port))
    text = text.replace("sqlite:///monitor.db", f"sqlite:///{tmp_path / 'monitor.db'}")
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    return config


def captured(web) -> list[dict]:
    out = [json.loads(r.body) for r in web.requests if r.url_path == "/json/alerts"]
    return [{"title": a.get("title", ""), "body": a.get("message", a.get("body", ""))} for a in out]


# ---- F2-01: a numeric reference to a surrogate in one feed ------------------------------------
@pytest.mark.parametrize(
    "ref,want",
    [
        (None, "\U0001f514"),  # the case as found: a surrogate pair written as two references
        (b"&#xD800;", "\ufffd"),  # a lone surrogate
        (b"&#x110000;", "\ufffd"),  # past U+10FFFF (feedparser #599)
        (b"&#xFFFFFFFF;", "\ufffd"),  # far past it (OverflowError in feedparser)
    ],
)
def test_f2_01_odd_character_references_do_not_cost_any_feed(tmp_path, web_server, capsys, ref, want):
    def edit(name: str, body: bytes) -> bytes:
        return body.replace(b"&#55357;&#56596;", ref) if ref and name == "emoji.xml" else body

    config = serve_case("F2-01-surrogate-charref-feed", web_server, tmp_path, edit=edit)
    assert main(["--config", str(config), "once"]) == 0
    out = capsys.readouterr().out
    assert "Emoji desk: ok" in out and "Plain desk: ok" in out
    alerts = captured(web_server)
    assert len(alerts) == 2  # both feeds' alerts, the healthy one's included
    [emoji] = [a for a in alerts if "مجلس الأمن يصادق" in a["title"] + a["body"]]
    assert want in emoji["title"] + emoji["body"]
    assert all("\ud83d" not in a["title"] + a["body"] for a in alerts)
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        assert store.feed_state("Emoji desk").last_error is None
    finally:
        store.close()


def test_f2_01_a_parser_that_raises_is_an_error_on_that_feed_only(tmp_path, web_server, capsys, monkeypatch):
    """Whatever the library raises on one feed, the other feeds' alerts are delivered and the
    failing feed records the error (with backoff), in `once` as in the daemon's job."""
    real = feedparser.parse

    def parse(data, *a, **kw):
        if b"Emoji desk" in data:
            raise UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")
        return real(data, *a, **kw)

    monkeypatch.setattr(feedparser, "parse", parse)
    config = serve_case("F2-01-surrogate-charref-feed", web_server, tmp_path)
    assert main(["--config", str(config), "once"]) == 0
    out = capsys.readouterr().out
    assert "Emoji desk: FAILED" in out and "UnicodeEncodeError" in out and "Plain desk: ok" in out
    assert len(captured(web_server)) == 1
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        state = store.feed_state("Emoji desk")
        assert "UnicodeEncodeError" in state.last_error and state.consecutive_failures == 1
        assert state.next_poll_at is not None  # backs off
    finally:
        store.close()


def test_an_exception_anywhere_in_a_poll_is_recorded_on_the_feed(tmp_path, web_server, monkeypatch):
    """The per-feed boundary: even a fault outside the item loop (here the ledger write) is a
    recorded error on the feed, and the daemon's job (Pipeline.poll_feed) does not die."""
    from monitor.config.load import load_config
    from monitor.fetch.client import Fetcher
    from monitor.pipeline import Pipeline

    config = serve_case("F2-01-surrogate-charref-feed", web_server, tmp_path)
    cfg = load_config(config, env={})
    store, fetcher = Store(cfg.storage_url), Fetcher.from_config(cfg)
    try:
        monkeypatch.setattr(Store, "enqueue_items", lambda *a, **kw: 1 / 0)
        report = Pipeline(cfg, store, fetcher).poll_feed(cfg.feeds[0], force=True)
        assert not report.ok and "ZeroDivisionError" in report.error
        assert "ZeroDivisionError" in store.feed_state(cfg.feeds[0].name).last_error
    finally:
        fetcher.close()
        store.close()


# ---- F2-09: an Arabic topic name + a 165-character headline in an email Subject ---------------
F2_09 = "feeds/F2-09-email-long-arabic-subject"


def test_f2_09_a_long_arabic_subject_is_delivered_within_998_octet_lines(tmp_path, web_server, capsys):
    """Right result: every emitted line <= 998 octets; the mail delivered (not refused, not dead)."""
    with SmtpServer(max_line=998) as smtp:
        config = serve_case(F2_09, web_server, tmp_path, smtp_port=smtp.port)
        assert main(["--config", str(config), "once"]) == 0
        [mail] = smtp.messages
        assert not smtp.refused
    assert max(len(line) for line in mail.raw.split(b"\r\n")) <= 998
    subject = str(mail.message["Subject"])
    assert subject.startswith("[monitor] الاتفاق النووي الإيراني: مجلس الأمن الدولي يتبنى")
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        [alert] = store.list_alerts()
        assert alert.status == "sent"
    finally:
        store.close()


# ---- F2-12: the alert group was upgraded to a supergroup ---------------------------------------
F2_12 = "feeds/F2-12-telegram-group-migrated"


def test_f2_12_a_migrated_group_gets_the_alert_and_the_operator_the_new_id(tmp_path, web_server, capsys):
    """Right result: the alert delivered to the new chat; an operator notice names the new id
    (the log line `monitor once` writes; the ops channel when there is one); remembered after."""
    moves = json.loads((CASES / F2_12 / "telegram.json").read_text(encoding="utf-8"))["migrate"]
    fake = FakeTelegram(migrated=moves)  # served on the case's own port (notify.telegram_api_url)
    token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"
    web_server.routes[f"/bot{token}/sendMessage"] = fake._respond
    config = serve_case(F2_12, web_server, tmp_path)
    try:
        assert main(["--config", str(config), "once"]) == 0
        [message] = fake.messages
        assert int(message.chat_id) == -1004012345678 and "الاتفاق النووي" in message.visible_text
        logged = capsys.readouterr().err
        assert "new_chat=-1004012345678" in logged and "OPERATOR ACTION NEEDED" in logged
        store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
        try:
            [alert] = store.list_alerts()
            assert alert.status == "sent"
            url = f"tgram://{token}/-4012345678"  # the config's URL: remembered until it changes
            assert store.chat_migrations(target_key(url)) == {"-4012345678": "-1004012345678"}
        finally:
            store.close()
    finally:
        configure(None)
