"""The outbox against the real local servers: per-target progress, classification,
backoff, ops notices, channel independence, rate limits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from monitor.delivery.outbox import Outbox
from monitor.storage import Store
from tests.support.outbox_helpers import TOKEN, FakeClock, add_article, corpus, make_config
from tests.support.telegram import FakeTelegram, TelegramReply

ROWS = corpus()


def _outbox(config, store) -> Outbox:
    clock = FakeClock()
    return Outbox(config, store, clock=clock, sleep=clock.sleep)


def _status(store: Store) -> dict[int, tuple[str, int]]:
    return {a.id: (a.status, a.attempts) for a in store.list_alerts(limit=10_000)}


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield s
    s.close()


@pytest.fixture
def any_store(store_url):
    """The same tests on SQLite and on PostgreSQL."""
    s = Store(store_url)
    yield s
    s.close()


def test_retry_resends_only_to_the_target_that_failed(tmp_path, any_store, fake_telegram):
    store = any_store
    config = make_config(tmp_path, {"tg": [f"tgram://{TOKEN}/111", f"tgram://{TOKEN}/222"]})
    outbox = _outbox(config, store)
    add_article(store, config, ROWS[0])
    fake_telegram.queue(TelegramReply.ok(), TelegramReply.error(502, "Bad Gateway"))
    first = outbox.deliver()
    assert first.failed == 1
    [alert] = store.list_alerts()
    assert alert.status == "pending" and alert.attempts == 1 and "502" in alert.last_error
    second = outbox.deliver(ignore_backoff=True)
    assert second.sent == 1
    chats = sorted(m.chat_id for m in fake_telegram.messages)
    assert chats == [111, 222]  # 111 got it once, not again on the retry


@pytest.mark.parametrize(
    "reply, permanent",
    [
        (TelegramReply.chat_not_found(), True),
        (TelegramReply.unauthorized(), True),
        (TelegramReply.forbidden(), True),
        (TelegramReply.error(500, "Internal Server Error"), False),
        (TelegramReply.drop_connection(), False),
    ],
)
def test_telegram_failures_classified(tmp_path, store, fake_telegram, reply, permanent):
    config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/111"})
    outbox = _outbox(config, store)
    add_article(store, config, ROWS[0])
    fake_telegram.queue(reply)
    before = datetime.now(UTC)
    report = outbox.deliver()
    [alert] = store.list_alerts()
    if permanent:
        assert report.dead == 1 and alert.status == "dead"
    else:
        assert report.failed == 1 and alert.status == "pending"
        wait = (alert.next_attempt_at - before).total_seconds()
        assert 30 <= wait <= 30 * 1.25 + 5  # first backoff step, with jitter
        assert outbox.deliver(ignore_backoff=True).sent == 1
    assert TOKEN not in (alert.last_error or "")


MESSAGE_REFUSALS = [
    TelegramReply.cant_parse_entities(),
    TelegramReply.error(400, "Bad Request: message is too long"),
    TelegramReply.error(400, "Bad Request: message text is empty"),
]


@pytest.mark.parametrize("reply", MESSAGE_REFUSALS, ids=lambda r: r.description)
def test_a_refused_message_is_resent_plain_not_blamed_on_the_channel(tmp_path, store, fake_telegram, reply):
    """Issue 12, loss 6: a refusal of our own message is never a dead channel; the plain form goes out."""
    config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/111"})
    outbox = _outbox(config, store)
    add_article(store, config, ROWS[0])
    fake_telegram.queue(reply)
    assert outbox.deliver().sent == 1
    [alert] = store.list_alerts()
    assert alert.status == "sent"
    [message] = fake_telegram.messages
    assert "<b>" not in message.text and message.visible_text.strip()  # the plain form


@pytest.mark.parametrize("reply", MESSAGE_REFUSALS, ids=lambda r: r.description)
def test_a_message_refused_even_plain_is_dead_as_ours_not_the_channels(tmp_path, store, fake_telegram, reply, caplog):
    config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/111"})
    outbox = _outbox(config, store)
    add_article(store, config, ROWS[0])
    fake_telegram.queue(reply, reply)
    assert outbox.deliver().dead == 1
    [alert] = store.list_alerts()
    assert alert.status == "dead" and "not a channel fault" in alert.last_error
    assert "fix the channel" not in caplog.text and "our message was refused" in caplog.text


def test_flood_wait_honours_retry_after_and_rests_the_channel(tmp_path, store, fake_telegram):
    config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/111"})
    outbox = _outbox(config, store)
    for row in ROWS[:3]:
        add_article(store, config, row)
    fake_telegram.queue(TelegramReply.flood(retry_after=120))
    before = datetime.now(UTC)
    report = outbox.deliver()
    assert report.failed == 1 and report.sent == 0  # the other two were not tried into the flood wait
    assert len(fake_telegram.calls) == 1
    retrying = [a for a in store.list_alerts() if a.attempts]
    assert (retrying[0].next_attempt_at - before).total_seconds() >= 120
    assert outbox.deliver().sent == 0  # still resting
    later = datetime.now(UTC) + timedelta(seconds=121)
    assert outbox.deliver(later).sent == 3


def test_backoff_grows_exponentially(tmp_path, store, fake_telegram):
    config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/111"})
    outbox = _outbox(config, store)
    add_article(store, config, ROWS[0])
    fake_telegram.queue(*[TelegramReply.error(503, "Service Unavailable")] * 5)
    waits = []
    now = datetime.now(UTC)
    for _ in range(5):
        outbox.senders["tg"].blocked_until = None
        outbox.deliver(now)
        [alert] = store.list_alerts()
        waits.append((alert.next_attempt_at - now).total_seconds())
        now = alert.next_attempt_at
    for n, wait in enumerate(waits):
        assert 30 * 2**n <= wait <= 30 * 2**n * 1.25 + 1
    outbox.senders["tg"].blocked_until = None
    assert outbox.deliver(now).sent == 1


def test_smtp_refusals_classified_and_message_id_stable(tmp_path, store, smtp_server):
    config = make_config(tmp_path, {"mail": smtp_server.apprise_url(to="reader@example.com")})
    outbox = _outbox(config, store)
    ids = [add_article(store, config, row) for row in ROWS[:3]]
    smtp_server.refuse_next(1, code=451)  # transient
    smtp_server.refuse_next(1, code=550, stage="rcpt")  # permanent (unknown recipient)
    report = outbox.deliver(ignore_backoff=True)
    assert (report.sent, report.failed, report.dead) == (1, 1, 1)
    assert outbox.deliver(ignore_backoff=True).sent == 1
    states = sorted(s for s, _ in _status(store).values())
    assert states == ["dead", "sent", "sent"]
    refused = [m for stage, code, m in smtp_server.refused if code == 451][0]
    resent = [m for m in smtp_server.messages if m.message["Subject"] == refused.message["Subject"]]
    assert len(resent) == 1
    assert resent[0].message["Message-ID"] == refused.message["Message-ID"]
    assert resent[0].message["Message-ID"].endswith("@monitor.invalid>")
    assert len(set(m.message["Message-ID"] for m in smtp_server.messages)) == 2
    assert len(ids) == 3


def test_smtp_auth_failure_is_permanent_and_raises_one_ops_notice(tmp_path, any_store, smtp_server, fake_telegram):
    store = any_store
    url = smtp_server.apprise_url(to="reader@example.com", user="bot", password="s3cr3t-Pa55")
    config = make_config(
        tmp_path,
        {"mail": url, "ops": f"tgram://{TOKEN}/999"},
        topics=[{"id": "t", "name": "كوريا", "any": ["كوريا"], "notify": ["mail"]}],
        notify={"ops_channel": "ops"},
    )
    outbox = _outbox(config, store)
    smtp_server.reject_auth = True
    aid = add_article(store, config, ROWS[0], channels=["mail"])
    report = outbox.deliver()
    assert report.dead == 1
    outbox.deliver()  # the ops notice goes out on its own channel
    outbox.deliver()
    [notice] = fake_telegram.messages
    assert notice.chat_id == 999 and "monitor outbox retry" in notice.visible_text
    assert "s3cr3t-Pa55" not in notice.text and TOKEN not in notice.text
    dead = store.list_alerts("dead")
    assert len(dead) == 1 and dead[0].article_id == aid
    # re-queued after the fix: sent, and no second notice
    smtp_server.reject_auth = False
    assert store.requeue(dead[0].id)
    assert outbox.deliver().sent == 1
    assert len(fake_telegram.messages) == 1


class _BlockingTelegram(FakeTelegram):
    """sendMessage waits until `release` is set (or a safety timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.released_in_time: list[bool] = []

    def _respond(self, request):
        if request.url_path.endswith("/sendMessage"):
            self.released_in_time.append(self.release.wait(60))
        return super()._respond(request)


def test_a_stuck_channel_does_not_delay_another(tmp_path, store, smtp_server):
    with _BlockingTelegram() as tg:
        tg.patch_apprise()
        config = make_config(
            tmp_path, {"tg": f"tgram://{TOKEN}/111", "mail": smtp_server.apprise_url(to="reader@example.com")}
        )
        outbox = _outbox(config, store)
        for row in ROWS[:2]:
            add_article(store, config, row)
        done = threading.Event()
        result = {}

        def watch_mail():
            # release Telegram only once both emails are in: if delivery were
            # sequential, Telegram would wait out its safety timeout instead
            while len(smtp_server.messages) < 2 and not done.is_set():
                threading.Event().wait(0.05)
            tg.release.set()

        watcher = threading.Thread(target=watch_mail)
        watcher.start()
        result["report"] = outbox.deliver()
        done.set()
        watcher.join()
        assert result["report"].sent == 4
        assert tg.released_in_time and all(tg.released_in_time)


def test_every_alert_ends_sent_or_dead_as_classified(tmp_path, any_store, fake_telegram, smtp_server):
    """A mixed run of failures: nothing lost, each alert sent or dead as its failure says."""
    store = any_store
    config = make_config(
        tmp_path, {"tg": f"tgram://{TOKEN}/111", "mail": smtp_server.apprise_url(to="reader@example.com")}
    )
    outbox = _outbox(config, store)
    for row in ROWS[:8]:
        add_article(store, config, row)
    fake_telegram.queue(
        TelegramReply.flood(1),
        TelegramReply.error(502, "Bad Gateway"),
        TelegramReply.chat_not_found(),
        TelegramReply.slow(0.5),
        TelegramReply.drop_connection(),
        TelegramReply.unauthorized(),
    )
    smtp_server.refuse_next(2, code=421)
    smtp_server.refuse_next(1, code=554)
    for _ in range(20):
        if not store.list_alerts("pending"):
            break
        outbox.deliver(ignore_backoff=True)
    final = _status(store)
    assert len(final) == 16
    assert not store.list_alerts("pending")
    dead = store.list_alerts("dead")
    assert sorted(a.channel for a in dead) == ["mail", "tg", "tg"]
    assert len(smtp_server.messages) == 7
    urls = {r["url"] for r in ROWS[:8]}
    got = [u for m in fake_telegram.messages for u in urls if u in m.visible_text]
    assert len(set(got)) == 6
    # the dropped connection lost the answer, not the message: at-least-once sends that
    # one alert twice, and no other
    assert len(got) == 7


def test_a_timed_out_send_is_retried(tmp_path, store, fake_telegram):
    """apprise gives up on a reply slower than its read timeout: transient, retried.
    (The fake had already accepted the message: at-least-once means it arrives twice.)"""
    from apprise.plugins.telegram import NotifyTelegram

    config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/111"})
    outbox = _outbox(config, store)
    add_article(store, config, ROWS[0])
    fake_telegram.queue(TelegramReply.slow(NotifyTelegram.socket_read_timeout + 2))
    assert outbox.deliver().failed == 1
    [alert] = store.list_alerts()
    assert alert.status == "pending" and "timed out" in alert.last_error.lower()
    assert outbox.deliver(ignore_backoff=True).sent == 1
    assert len(fake_telegram.messages) == 2


def test_classification_survives_the_daemons_log_setup(tmp_path, store, smtp_server):
    """logs.setup quiets apprise's logger; SMTP codes (in apprise's DEBUG lines) must still count."""
    import logging

    logging.getLogger("apprise").setLevel(logging.WARNING)  # what monitor.logs.setup does
    config = make_config(tmp_path, {"mail": smtp_server.apprise_url(to="reader@example.com")})
    outbox = _outbox(config, store)
    add_article(store, config, ROWS[0])
    smtp_server.refuse_next(1, code=550, stage="rcpt")
    assert outbox.deliver().dead == 1


def test_alerts_of_a_removed_channel_are_kept_and_reported(tmp_path, store, fake_telegram, caplog):
    old = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/111", "gone": f"tgram://{TOKEN}/222"})
    add_article(store, old, ROWS[0])
    config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/111"})
    report = _outbox(config, store).deliver()
    assert (report.sent, report.stranded, report.stranded_by) == (1, 1, (("gone", 1),))
    assert [a.channel for a in store.list_alerts("pending")] == ["gone"]
    assert "alerts stranded channel=gone count=1 reason=channel not in config" in caplog.text


def test_one_target_refusing_for_good_kills_the_alert_for_it_only(tmp_path, store):
    """Two chats: one unknown (400), one flaky (502 then fine). The good chat gets the
    alert once, the alert ends dead (one chat refused it), and a re-queue after the fix
    retries only the chat that refused."""
    with FakeTelegram(known_chats=[111]) as tg:
        tg.patch_apprise()
        config = make_config(tmp_path, {"tg": [f"tgram://{TOKEN}/111", f"tgram://{TOKEN}/222"]})
        outbox = _outbox(config, store)
        add_article(store, config, ROWS[0])
        tg.queue(TelegramReply.error(502, "Bad Gateway"))
        assert outbox.deliver().failed == 1  # 111: 502, 222: chat not found
        assert outbox.deliver(ignore_backoff=True).dead == 1
        [alert] = store.list_alerts()
        assert alert.status == "dead" and "chat not found" in alert.last_error
        assert [m.chat_id for m in tg.messages] == [111]
        tg.known_chats = {"111", "222"}  # the operator fixes the chat
        assert store.requeue(alert.id)
        assert outbox.deliver().sent == 1
        assert sorted(m.chat_id for m in tg.messages) == [111, 222]


# ---- issue 12, loss 7: a group upgraded to a supergroup (Telegram's 400 + migrate_to_chat_id) ------
OLD, NEW = "-4012345678", -1004012345678
STORY_TOPIC = {
    "id": "t",
    "name": "كوريا الشمالية",
    "any": ["كوريا"],
    "notify": ["tg"],
    "alert": "per-story",
    "follow_ups": True,
}


@pytest.mark.parametrize(
    "urls, topics, sent_to",
    [
        ([f"tgram://{TOKEN}/{OLD}"], None, [NEW]),  # apprise
        ([f"tgram://{TOKEN}/{OLD}"], [STORY_TOPIC], [NEW]),  # the direct Bot API call (threaded topic)
        ([f"tgram://{TOKEN}/111/{OLD}"], None, [111, NEW]),  # apprise, two chats in one URL: only the moved one
    ],
    ids=["apprise", "direct", "apprise-two-chats"],
)
def test_a_migrated_group_gets_the_alert_at_its_new_id_from_then_on(tmp_path, store, urls, topics, sent_to, caplog):
    with FakeTelegram(migrated={OLD: NEW}) as fake:
        fake.patch_apprise()
        notify = {"telegram_api_url": fake.base_url, "ops_channel": "ops"}
        config = make_config(tmp_path, {"tg": urls, "ops": f"tgram://{TOKEN}/999"}, topics, notify)
        outbox = _outbox(config, store)
        add_article(store, config, ROWS[0], channels=["tg"])
        assert outbox.deliver().sent == 1  # the alert, at the new chat
        assert outbox.deliver().sent == 1  # the operator notice (queued meanwhile)
        assert sorted(int(m.chat_id) for m in fake.messages if m.chat_id != 999) == sorted(sent_to)
        [notice] = [m for m in fake.messages if m.chat_id == 999]
        assert str(NEW) in notice.visible_text and OLD in notice.visible_text
        assert str(NEW) in caplog.text and "update the channel's URL" in caplog.text
        # remembered: the next alert goes straight to the new chat (no call to the old one)
        fake.clear()
        add_article(store, config, ROWS[1], channels=["tg"])
        assert outbox.deliver().sent == 1
        assert not [c for c in fake.calls if str(c.params.get("chat_id")) == OLD]
        assert sorted(int(m.chat_id) for m in fake.messages) == sorted(sent_to)


def test_a_changed_config_url_drops_the_remembered_migration(tmp_path, store):
    with FakeTelegram(migrated={OLD: NEW}) as fake:
        fake.patch_apprise()
        config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/{OLD}"})
        add_article(store, config, ROWS[0])
        assert _outbox(config, store).deliver().sent == 1
        fake.migrated.clear()
        fake.clear()
        changed = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/{NEW}"})  # the operator updated the config
        add_article(store, changed, ROWS[1])
        assert _outbox(changed, store).deliver().sent == 1
        assert [m.chat_id for m in fake.messages] == [NEW]
        moved_back = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/777"})  # a different chat: nothing rewritten
        add_article(store, moved_back, ROWS[2])
        assert _outbox(moved_back, store).deliver().sent == 1
        assert fake.messages[-1].chat_id == 777
