"""redteam17b: a node frozen while its send is in flight, whose answer (read on thaw) is a
permanent refusal (403: the bot was blocked, then unblocked before the takeover's send).
The node that took the channel over sent the alert; the thawed node must not write it
off: its lease is gone, so its verdict should not count (mark_sent is fenced, mark_dead is not).

Public reports of the kind: ayrat555/el_monitorro#66 (delivery state written from a stale
view after a partial failure); procrastinate-org/procrastinate#740 (a job rerun while its
first run goes on: both write their outcome).
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.redteam17b.test_frozen_sender import holder
from tests.support.cluster import (
    alerts,
    cluster_config,
    covering_terms,
    grow,
    node_logs,
    site,
    sql,
    start_node,
    stop_nodes,
)
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

FEEDS = 2


@pytest.mark.xfail(
    strict=True,
    reason="redteam17b #5: a thawed node whose lease is gone still records its send's permanent refusal "
    "(mark_dead is not fenced, and does not stop its drain): an alert the takeover delivered becomes "
    "'dead' with an OPERATOR ACTION line, and `monitor outbox retry` would send it again",
)
def test_a_thawed_refusal_does_not_kill_a_delivered_alert(tmp_path, web_server, fake_telegram_unpatched):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first_pages = site(web, FEEDS)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(FEEDS)]
        config = cluster_config(
            tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, cluster_stall_after="4s"
        )
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(2)]
        try:
            wait_until(lambda: sum(alerts(telegram, first_pages).values()) >= len(first_pages), "first alerts")
            blocked = TelegramReply.forbidden()
            telegram.queue(TelegramReply(blocked.status, blocked.description, delay=3.0))
            before = len(telegram.calls)
            pages = grow(web, per_feed)
            wait_until(lambda: len(telegram.calls) > before, "a send in flight")
            frozen = nodes[int(wait_until(lambda: holder(db, tmp_path, 2), "the node holding the send"))]
            frozen.send_signal(signal.SIGSTOP)
            wait_until(lambda: "stalled job " in node_logs(tmp_path, 2), "the takeover")
            wait_until(lambda: sql(db, "SELECT count(*) FROM alerts WHERE status = 'pending'") == [(0,)], "all sent")
            frozen.send_signal(signal.SIGCONT)
            time.sleep(8)
        finally:
            stop_nodes(nodes)
        got = alerts(telegram, pages)
        assert set(got) == set(pages), "lost alerts"
        extra = {u: n - 1 for u, n in got.items() if n > 1}
        logs = node_logs(tmp_path, 2)
        assert sum(extra.values()) <= 1, f"one freeze, duplicates {extra}\n{logs[-2500:]}"
        states = sql(db, "SELECT id, status FROM alerts ORDER BY id")
        assert all(s == "sent" for _, s in states or []), f"{states}\n{logs[-2500:]}"
