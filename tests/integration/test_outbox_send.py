"""The outbox's retry / dead / backoff logic with an injected send (no apprise, no servers).

The store is real SQLite in tmp_path; every send goes to a scripted fake that records
what it was asked to send.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from monitor.delivery.failures import SendResult, classify, classify_http
from monitor.delivery.outbox import RETRY_BASE, RETRY_CAP, ChannelSender, Outbox, SendRequest
from monitor.models import ChannelKind
from monitor.storage import Store
from tests.support.outbox_helpers import TOKEN, FakeClock, add_article, corpus, make_config

ROWS = corpus()
OK = SendResult(True)
T503 = SendResult.from_failure(classify_http(503, "Service Unavailable"), prefix="tgram: ")
P403 = SendResult.from_failure(classify_http(403, "Forbidden: bot was blocked by the user"), prefix="tgram: ")
SMTP535 = SendResult.from_failure(
    classify("2026-03-01 10:00:00,000 - DEBUG - Socket Exception: (535, b'5.7.8 authentication failed')"),
    prefix="mailtos: ",
)


class FakeSend:
    """Returns the scripted results in order (then OK), recording every request."""

    def __init__(self, results: Iterable[SendResult] = ()) -> None:
        self.results = list(results)
        self.requests: list[SendRequest] = []

    def __call__(self, request: SendRequest) -> SendResult:
        self.requests.append(request)
        return self.results.pop(0) if self.results else OK

    @property
    def urls(self) -> list[str]:
        return [r.url for r in self.requests]


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield s
    s.close()


def _outbox(config, store, send: FakeSend) -> Outbox:
    clock = FakeClock()
    return Outbox(config, store, clock=clock, sleep=clock.sleep, send=send)


def _alerts(store: Store) -> dict[str, tuple[str, int]]:
    return {a.channel: (a.status, a.attempts) for a in store.list_alerts(limit=100)}


TG1, TG2 = f"tgram://{TOKEN}/111", f"tgram://{TOKEN}/222"
MAIL = "mailtos://user:secretpw@127.0.0.1:2525?from=a@example.com&to=b@example.com"


@pytest.mark.parametrize(
    ("channels", "result", "kind"),
    [
        ({"tg": [TG1]}, T503, ChannelKind.TELEGRAM),
        ({"mail": [MAIL]}, SendResult(False, "mailtos: Connection refused"), ChannelKind.EMAIL),
        ({"hook": ["json://127.0.0.1:9/hook"]}, SendResult(False, "json: error=500"), ChannelKind.OTHER),
    ],
)
def test_a_transient_failure_is_retried_later_with_backoff(tmp_path, store, channels, result, kind):
    config = make_config(tmp_path, channels)
    send = FakeSend([result])
    outbox = _outbox(config, store, send)
    add_article(store, config, ROWS[0])
    before = datetime.now(UTC)
    report = outbox.deliver()
    assert (report.sent, report.failed, report.dead) == (0, 1, 0)
    [alert] = store.list_alerts()
    assert (alert.status, alert.attempts) == ("pending", 1)
    assert result.error in alert.last_error
    wait = (alert.next_attempt_at.replace(tzinfo=UTC) - before).total_seconds()
    assert RETRY_BASE * 0.99 <= wait <= RETRY_BASE * 1.25 + 5
    assert send.requests[0].kind is kind
    # the channel rests: a second pass right away sends nothing
    assert outbox.deliver().sent == 0 and len(send.requests) == 1
    # a pass that ignores the backoff sends it, and it is done
    assert outbox.deliver(ignore_backoff=True).sent == 1
    assert store.list_alerts()[0].status == "sent"


def test_retry_after_is_honoured(tmp_path, store):
    config = make_config(tmp_path, {"tg": [TG1]})
    send = FakeSend([SendResult.from_failure(classify_http(429, "Too Many Requests: retry after 900", 900.0))])
    outbox = _outbox(config, store, send)
    add_article(store, config, ROWS[0])
    before = datetime.now(UTC)
    outbox.deliver()
    [alert] = store.list_alerts()
    assert (alert.next_attempt_at.replace(tzinfo=UTC) - before).total_seconds() >= 900
    sender = outbox.senders["tg"]
    assert sender.blocked_until is not None and (sender.blocked_until - before).total_seconds() >= 900


@pytest.mark.parametrize(("channels", "result"), [({"tg": [TG1]}, P403), ({"mail": [MAIL]}, SMTP535)])
def test_a_permanent_failure_goes_dead_at_once_with_an_ops_notice(tmp_path, store, channels, result):
    name = next(iter(channels))
    config = make_config(
        tmp_path,
        {**channels, "ops": [TG2]},
        topics=[{"id": "t", "name": "كوريا الشمالية", "any": ["كوريا"], "notify": [name]}],
        notify={"ops_channel": "ops"},
    )
    send = FakeSend([result])
    outbox = _outbox(config, store, send)
    add_article(store, config, ROWS[0], channels=[name])
    report = outbox.deliver()
    assert report.dead == 1
    states = {a.topic_id: (a.channel, a.status) for a in store.list_alerts()}
    assert states["t"] == (name, "dead")
    assert states[next(k for k in states if k.startswith("ops:"))][0] == "ops"
    # the notice goes out (this pass or the next, the ops sender runs in parallel);
    # the dead alert is never tried again
    outbox.deliver(ignore_backoff=True)
    assert sorted(send.urls) == sorted([config.channels[name][0], TG2])
    assert store.list_alerts(status="dead")[0].last_error == f"{name} {result.error}"


def test_only_the_target_that_failed_is_retried(tmp_path, store):
    config = make_config(tmp_path, {"tg": [TG1, TG2]})
    send = FakeSend([OK, T503])
    outbox = _outbox(config, store, send)
    add_article(store, config, ROWS[0])
    assert outbox.deliver().failed == 1
    assert outbox.deliver(ignore_backoff=True).sent == 1
    assert send.urls == [TG1, TG2, TG2]


def test_one_target_refusing_for_good_does_not_stop_the_other(tmp_path, store):
    config = make_config(tmp_path, {"tg": [TG1, TG2]})
    send = FakeSend([P403, T503])
    outbox = _outbox(config, store, send)
    add_article(store, config, ROWS[0])
    assert outbox.deliver().failed == 1  # TG2 is still worth retrying
    report = outbox.deliver(ignore_backoff=True)
    assert report.dead == 1  # TG1 refused for good, TG2 now has it: dead (one target never got it)
    assert send.urls == [TG1, TG2, TG2]


def test_attempts_grow_and_the_delay_doubles(tmp_path, store):
    config = make_config(tmp_path, {"tg": [TG1]})
    send = FakeSend([T503] * 4)
    outbox = _outbox(config, store, send)
    add_article(store, config, ROWS[0])
    waits = []
    for _ in range(4):
        before = datetime.now(UTC)
        outbox.deliver(ignore_backoff=True)
        [alert] = store.list_alerts()
        waits.append((alert.next_attempt_at.replace(tzinfo=UTC) - before).total_seconds())
    assert store.list_alerts()[0].attempts == 4
    for n, wait in enumerate(waits):
        base = min(RETRY_CAP, RETRY_BASE * 2**n)
        assert base * 0.99 <= wait <= base * 1.25 + 5


def test_a_threaded_alert_keeps_its_message_id(tmp_path, store):
    topics = [
        {
            "id": "t",
            "name": "كوريا الشمالية",
            "any": ["كوريا"],
            "notify": ["tg"],
            "alert": "per-story",
            "follow_ups": True,
        }
    ]
    config = make_config(tmp_path, {"tg": [TG1]}, topics=topics)
    send = FakeSend([SendResult(True, message_id=4242)])
    outbox = _outbox(config, store, send)
    add_article(store, config, ROWS[0])
    assert outbox.deliver().sent == 1
    [request] = send.requests
    assert request.threaded and request.reply_to is None and request.kind is ChannelKind.TELEGRAM
    [alert] = store.list_alerts()
    sender: ChannelSender = outbox.senders["tg"]
    assert store.message_ref(alert.id, sender.targets[0].key) == "4242"


def test_a_default_sender_still_uses_the_real_send(tmp_path, store):
    config = make_config(tmp_path, {"tg": [TG1]})
    sender = ChannelSender(config, store, "tg")
    assert callable(sender.send)
    # a past `now` with nothing due: no send at all
    assert sender.drain(datetime.now(UTC) - timedelta(days=1)).sent == 0
