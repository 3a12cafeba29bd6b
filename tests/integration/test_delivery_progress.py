"""Per-target, per-part delivery progress through the real outbox sender and store
(SQLite and PostgreSQL): a message split in several Telegram parts that fails midway is
resumed at the part that failed, never resending the parts a chat already shows
(the kind of NousResearch/hermes-agent#114396; see tests/unit/test_delivery_progress.py).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from monitor.delivery.digest import split_telegram
from monitor.delivery.outbox import Outbox, target_key
from monitor.delivery.render import telegram_visible
from monitor.models import Article, NewAlert
from monitor.storage import DeliveryProgress, Mark, Store
from tests.support.outbox_helpers import TOKEN, FakeClock, corpus, make_config
from tests.support.telegram import TelegramReply

ROWS = corpus()
URL = f"tgram://{TOKEN}/111"


@pytest.fixture
def any_store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def _long_alert(store: Store) -> tuple[int, list[str]]:
    """One stored alert whose HTML (corpus articles, escaped) is several Telegram messages."""
    rows = ROWS[:8]
    body = "\n\n".join(html.escape(r["content"]) for r in rows)
    article = Article(url=rows[0]["url"], url_key=rows[0]["url"], feed="F", title=rows[0]["title"], body=body)
    alert = NewAlert("t", "tg", rows[0]["title"], body, body)
    store.save_article(article, guid="", outlet=rows[0]["source"], matches=[], alerts=[alert])
    [stored] = store.list_alerts()
    return stored.id, split_telegram(body)


def _words(text: str) -> str:
    return " ".join(text.split())  # apprise sends line breaks as CRLF


def _sent(fake_telegram) -> list[str]:
    return [_words(m.visible_text) for m in fake_telegram.messages]


def _shown(parts: list[str]) -> list[str]:
    return [_words(telegram_visible(p)) for p in parts]


def _outbox(tmp_path, store: Store) -> Outbox:
    clock = FakeClock()
    return Outbox(make_config(tmp_path, {"tg": URL}), store, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize("fail_at", [0, 1, -1])  # the first, a middle and the last part fail once
def test_split_message_resumes_at_the_failed_part(tmp_path, any_store, fake_telegram, fail_at):
    store = any_store
    alert_id, parts = _long_alert(store)
    assert len(parts) >= 3
    fail_at %= len(parts)
    outbox = _outbox(tmp_path, store)
    fake_telegram.queue(*[TelegramReply.ok()] * fail_at, TelegramReply.error(502, "Bad Gateway"))
    assert outbox.deliver().failed == 1
    key = target_key(URL)
    progress = store.get_alert(alert_id).progress
    assert [i for i in range(len(parts)) if progress.got_part(key, i)] == list(range(fail_at))
    assert not progress.settled(key)
    assert outbox.deliver(ignore_backoff=True).sent == 1
    assert _sent(fake_telegram) == _shown(parts)  # each part once, in order
    assert store.get_alert(alert_id).progress.got(key)


def test_refused_target_is_retried_after_requeue_and_keeps_its_parts(tmp_path, any_store, fake_telegram):
    store = any_store
    alert_id, parts = _long_alert(store)
    outbox = _outbox(tmp_path, store)
    fake_telegram.queue(TelegramReply.ok(), TelegramReply.chat_not_found())
    assert outbox.deliver().dead == 1
    key = target_key(URL)
    dead = store.get_alert(alert_id)
    assert dead.status == "dead" and dead.progress == DeliveryProgress((Mark(key, 0), Mark(key, refused=True)))
    assert dead.delivered == f"{key}#0 dead:{key}"  # the column keeps its format: no migration
    assert store.requeue(alert_id)
    assert store.get_alert(alert_id).delivered == f"{key}#0"
    assert outbox.deliver().sent == 1
    assert _sent(fake_telegram) == _shown(parts)


# Column values as the sender before this change wrote them, read by requeue now.
OLD_COLUMNS = [
    ("aaaabbbbcccc dead:0a1b2c3d4e5f", "aaaabbbbcccc"),
    ("aaaabbbbcccc#0 aaaabbbbcccc#1 dead:0a1b2c3d4e5f dead:123456789abc", "aaaabbbbcccc#0 aaaabbbbcccc#1"),
    ("dead:0a1b2c3d4e5f", ""),
    ("", ""),
]


@pytest.mark.parametrize("column, kept", OLD_COLUMNS)
def test_requeue_reads_columns_written_before(any_store, column, kept):
    from sqlalchemy import update

    from monitor.storage.schema import alerts

    store = any_store
    article = Article(url="https://ex.com/a/1", url_key="https://ex.com/a/1", feed="F", title="t", body="b")
    store.save_article(article, guid="", outlet="o", matches=[], alerts=[NewAlert("t", "tg", "s", "x", "h")])
    [alert] = store.list_alerts()
    with store.tx() as conn:
        conn.execute(update(alerts).where(alerts.c.id == alert.id).values(status="dead", delivered=column))
    assert store.requeue(alert.id)
    again = store.get_alert(alert.id)
    assert (again.status, again.delivered) == ("pending", kept)


def test_marks_append_in_the_database(any_store):
    store = any_store
    article = Article(url="https://ex.com/a/2", url_key="https://ex.com/a/2", feed="F", title="t", body="b")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    store.save_article(article, guid="", outlet="o", matches=[], alerts=[NewAlert("t", "tg", "s", "x", "h")], now=now)
    [alert] = store.list_alerts()
    store.mark_delivered([alert.id], "aaaabbbbcccc", part=0)
    store.mark_delivered([alert.id], "aaaabbbbcccc", part=1)
    store.mark_delivered([alert.id], "0a1b2c3d4e5f", refused=True)
    store.mark_delivered([alert.id], "123456789abc")
    got = store.get_alert(alert.id)
    assert got.delivered == "aaaabbbbcccc#0 aaaabbbbcccc#1 dead:0a1b2c3d4e5f 123456789abc"
    assert got.progress.format() == got.delivered
    with pytest.raises(ValueError):
        store.mark_delivered([alert.id], "bad key")
