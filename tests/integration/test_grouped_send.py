"""One article, several topics, one channel: the outbox sends ONE message per target naming
every topic, and keeps one ledger row per topic, sent / retried / dead together (issue 18,
item 12). Real SQLite, the real Composer, an injected send that records each request.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.delivery.compose import Composer
from monitor.delivery.failures import SendResult, classify_http
from monitor.delivery.outbox import Outbox, SendRequest, target_key
from monitor.delivery.render import render_alert
from monitor.models import Article, Match, NewAlert, TermHit, channel_kind
from monitor.storage import Store
from tests.support.outbox_helpers import TOKEN, FakeClock, corpus, make_config

ROW = corpus()[0]
TG = f"tgram://{TOKEN}/111"
T503 = SendResult.from_failure(classify_http(503, "Service Unavailable"), prefix="tgram: ")
P400 = SendResult.from_failure(classify_http(400, "Bad Request: chat not found"), prefix="tgram: ")
TOPICS = [
    {"id": "a", "name": "الموضوع الأول", "any": ["كوريا"], "notify": ["tg"]},
    {"id": "b", "name": "الموضوع الثاني", "any": ["كوريا"], "notify": ["tg"]},
]
THREADED = {**TOPICS[1], "alert": "per-story", "follow_ups": True}
THREE = [*TOPICS, {"id": "c", "name": "الموضوع الثالث", "any": ["كوريا"], "notify": ["tg"]}]


class Recorder:
    def __init__(self, results: list[SendResult]) -> None:
        self.results = list(results)
        self.requests: list[SendRequest] = []

    def __call__(self, request: SendRequest) -> SendResult:
        self.requests.append(request)
        return self.results.pop(0) if self.results else SendResult(True)


def save(store: Store, config) -> None:
    article = Article(url=ROW["url"], url_key=ROW["url"], feed="F", title=ROW["title"], body=ROW["content"])
    matches, alerts = [], []
    for topic in config.topics:
        m = Match(topic.id, topic.name, (TermHit("كوريا", "كوريا", "body", 0, 0, 5, "any"),), ROW["content"][:150])
        matches.append(m)
        r = render_alert(article, m, outlet=ROW["source"], channel_kind=channel_kind(config.channels["tg"]))
        alerts.append(NewAlert(topic.id, "tg", r.subject, r.text, r.html))
    store.save_article(article, guid="", outlet=ROW["source"], matches=matches, alerts=alerts)


@pytest.mark.parametrize(
    ("topics", "results", "premark", "sends", "statuses"),
    [
        # BoPeng/ai-marketplace-monitor#251: two search items matched one listing, two notifications
        (TOPICS, [], False, 1, {"sent"}),  # one message naming both
        # fedora-infra/fmn#792: several rules of one user match one message with a destination in common
        (THREE, [], False, 1, {"sent"}),
        ([TOPICS[0], THREADED], [], False, 2, {"sent"}),  # a threaded topic keeps its own message
        (TOPICS, [], True, 1, {"sent"}),  # the target had topic a's row: b goes alone, a is not resent
        (TOPICS, [T503], False, 2, {"sent"}),  # failed together, retried once together (1 + 1)
        (TOPICS, [P400], False, 1, {"dead"}),  # refused for good: both rows dead
    ],
)
def test_grouped_rows_share_one_message(tmp_path, topics, results, premark, sends, statuses):
    ops = {"ops": [f"tgram://{TOKEN}/999"]}
    config = make_config(tmp_path, {"tg": [TG], **ops}, topics=topics, notify={"ops_channel": "ops"})
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        save(store, config)
        if premark:  # the target already has topic a's row (sent alone before an upgrade, say)
            store.mark_delivered([min(a.id for a in store.list_alerts())], target_key(TG))
        send = Recorder(results)
        clock = FakeClock()
        outbox = Outbox(
            config, store, message=Composer(config, store).message_group, clock=clock, sleep=clock.sleep, send=send
        )
        outbox.deliver(datetime.now(UTC))
        outbox.deliver(datetime.now(UTC), ignore_backoff=True)
        rows = [a for a in store.list_alerts() if a.channel == "tg"]
        assert len(rows) == len(topics)
        assert {a.status for a in rows} == statuses
        to_tg = [r for r in send.requests if r.url == TG]
        assert len(to_tg) == sends, [r.part.text[:80] for r in to_tg]
        if sends and topics in (TOPICS, THREE) and not premark:
            text = to_tg[-1].part.html
            assert all(t["name"] in text for t in topics)
        if statuses == {"dead"}:  # each dead row named in its own operator notice (retry ID works per row)
            notices = [a for a in store.list_alerts() if a.topic_id.startswith("ops:")]
            assert sorted(n.topic_id for n in notices) == sorted(f"ops:{a.id}" for a in rows)
    finally:
        store.close()
