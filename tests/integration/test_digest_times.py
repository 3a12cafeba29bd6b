"""Digests show each article's publication time in the channel's time zone, as single alerts do
(issue 12, loss 9): through the fake Bot API that apprise really calls and through aiosmtpd."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.delivery.digest import group_stories
from monitor.delivery.outbox import Outbox
from monitor.storage import Store
from tests.support.outbox_helpers import TOKEN, FakeClock, add_article, corpus, make_config

ROWS = corpus()
LABEL = "تاريخ النشر"  # the alerts' own "publication date" label
HELD = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)  # the alerts are made here, held for the hourly digest
SENT = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)

# (channel time zone, publication time in UTC, what the digest must show); None: notify.timezone (UTC)
ZONES = [
    ("Asia/Riyadh", datetime(2026, 1, 1, 7, 30, tzinfo=UTC), "2026-01-01 10:30 Asia/Riyadh"),
    ("Asia/Kolkata", datetime(2026, 1, 1, 7, 30, tzinfo=UTC), "2026-01-01 13:00 Asia/Kolkata"),  # +05:30
    ("Asia/Tehran", datetime(2026, 1, 1, 7, 30, tzinfo=UTC), "2026-01-01 11:00 Asia/Tehran"),  # +03:30
    # the day summer time starts (01:00 UTC): before it GMT, after it BST
    ("Europe/London", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "2026-03-29 00:30 Europe/London"),
    ("Europe/London", datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03-29 02:30 Europe/London"),
    ("America/New_York", datetime(2026, 7, 1, 3, 15, tzinfo=UTC), "2026-06-30 23:15 America/New_York"),  # EDT
    (None, datetime(2026, 1, 1, 7, 30, tzinfo=UTC), "2026-01-01 07:30 UTC"),
]


def _two_stories() -> tuple[dict, dict]:
    """Two corpus articles that are not one story (so each gets its own digest entry)."""
    a = ROWS[0]
    b = next(r for r in ROWS[1:] if len(group_stories([_item(a), _item(r)])) == 2)
    return a, b


def _item(row: dict) -> tuple[str, str, str, str]:
    return (row["title"], row["url"], row["source"], row["content"])


def _channel(url: str, tz: str | None) -> dict:
    return {"urls": url, "delivery": "hourly", **({"timezone": tz} if tz else {})}


def _digest(tmp_path, channel: dict, published: datetime) -> tuple[Outbox, Store, dict, dict]:
    config = make_config(tmp_path, {"c": channel})
    store = Store(config.storage_url)
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    dated, undated = _two_stories()
    add_article(store, config, dated, now=HELD, outbox=outbox, published=published)
    add_article(store, config, undated, now=HELD, outbox=outbox)  # no publication date
    return outbox, store, dated, undated


def _check(text: str, dated: dict, undated: dict, shown: str) -> None:
    assert text.count(LABEL) == 1, text  # the undated article has no time line
    line = next(ln for ln in text.splitlines() if LABEL in ln)
    assert line.rstrip().endswith(f"{LABEL}: {shown}"), line
    # the time sits under the dated article's headline, not the undated one's
    d, u, t = (text.index(x) for x in (dated["title"][:40], undated["title"][:40], line))
    assert d < t and not d < u < t, text


@pytest.mark.parametrize(("tz", "published", "shown"), ZONES)
def test_a_telegram_digest_shows_each_publication_time_in_the_channels_zone(
    tmp_path, fake_telegram, tz, published, shown
):
    outbox, store, dated, undated = _digest(tmp_path, _channel(f"tgram://{TOKEN}/111", tz), published)
    try:
        assert outbox.deliver(HELD).sent == 0  # held for the digest
        assert outbox.deliver(SENT).sent == 2
    finally:
        store.close()
    [digest] = fake_telegram.messages
    assert "ملخص التنبيهات" in digest.visible_text and digest.parse_mode == "HTML"
    _check(digest.visible_text, dated, undated, shown)


@pytest.mark.parametrize(("tz", "published", "shown"), ZONES)
def test_an_email_digest_shows_each_publication_time_in_the_channels_zone(tmp_path, smtp_server, tz, published, shown):
    outbox, store, dated, undated = _digest(
        tmp_path, _channel(smtp_server.apprise_url(to="r@example.com"), tz), published
    )
    try:
        assert outbox.deliver(SENT).sent == 2
    finally:
        store.close()
    [mail] = smtp_server.messages
    msg = mail.message
    assert "ملخص التنبيهات" in msg["Subject"]
    html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html").get_content()
    assert html_part.count(LABEL) == 1 and f"{LABEL}: {shown}</small>" in html_part, html_part
    plain = next(p for p in msg.iter_parts() if p.get_content_type() == "text/plain").get_content()
    _check(plain, dated, undated, shown)


def test_a_story_from_two_outlets_shows_each_outlets_time(tmp_path, fake_telegram):
    """One story, two articles published at different times: the head line has the first
    article's time, and each outlet its own."""
    a, b = next(
        (a, b)
        for a in ROWS
        for b in ROWS
        if a["source"] < b["source"] and a["title"] != b["title"] and len(group_stories([_item(a), _item(b)])) == 1
    )
    config = make_config(tmp_path, {"c": _channel(f"tgram://{TOKEN}/111", "Asia/Riyadh")})
    store = Store(config.storage_url)
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    try:
        add_article(store, config, a, now=HELD, outbox=outbox, published=datetime(2026, 1, 1, 6, 0, tzinfo=UTC))
        add_article(store, config, b, now=HELD, outbox=outbox, published=datetime(2026, 1, 1, 8, 45, tzinfo=UTC))
        assert outbox.deliver(SENT).sent == 2
    finally:
        store.close()
    [digest] = fake_telegram.messages
    text = digest.visible_text
    assert text.count("•") == 1, text
    assert f"{LABEL}: 2026-01-01 09:00 Asia/Riyadh" in text
    assert f"{a['source']} (2026-01-01 09:00 Asia/Riyadh)" in text
    assert f"{b['source']} (2026-01-01 11:45 Asia/Riyadh)" in text
