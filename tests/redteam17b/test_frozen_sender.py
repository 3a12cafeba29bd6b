"""redteam17b: a node frozen (SIGSTOP) past the stall timeout while it holds a channel's send,
then thawed while the node that took the channel over is still sending.

The promise (issue 17, README "Running several nodes"): every alert reaches the channel
exactly once, a duplicate only for a send cut by a kill (at most one per kill). A freeze
is the gentlest "kill": it should cost at most one duplicate, the in-flight message.

Similar public reports (rebuilt, no text copied): celery/celery#5935 and pretix/pretix#2058
(a long task redelivered to a second worker while the first, only slow, still runs it: mails
sent twice); procrastinate-org/procrastinate#740 (retry a stalled job only when reasonably sure
it is not running any more).
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.support.cluster import alerts, cluster_config, covering_terms, grow, node_logs, site, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import SAFETY, wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

FEEDS = 3


def holder(db: str, tmp_path, n: int) -> str | None:
    """The index (text) of the node whose worker runs the send job now (from the jobs table
    and the node's "channel taken ... worker=W" line); None when no send runs."""
    import psycopg

    with psycopg.connect(db.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT worker_id FROM procrastinate_jobs WHERE task_name = 'monitor.send' AND status = 'doing'"
        ).fetchone()
    if row is None:
        return None
    for i in range(n):
        log = tmp_path / f"n{i}.log"
        if log.exists() and f"worker={row[0]}\n" in log.read_text():
            return str(i)
    return None


def test_a_thawed_sender_costs_at_most_one_duplicate(tmp_path, web_server, fake_telegram_unpatched):
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
            telegram.queue(TelegramReply.slow(3.0))  # the frozen node's send: answered while it sleeps
            before = len(telegram.calls)
            pages = grow(web, per_feed)
            wait_until(lambda: len(telegram.calls) > before, "a send in flight")
            frozen = nodes[int(wait_until(lambda: holder(db, tmp_path, 2), "the node holding the send"))]
            frozen.send_signal(signal.SIGSTOP)
            # the survivor's sends are slow too, so it is mid-drain when the frozen node wakes
            telegram.queue(*[TelegramReply.slow(3.0) for _ in range(len(pages))])
            wait_until(lambda: "stalled job " in node_logs(tmp_path, 2), "the takeover (rerun or superseded)")
            taken = len(telegram.calls)
            wait_until(lambda: len(telegram.calls) > taken, "the survivor sending")
            frozen.send_signal(signal.SIGCONT)
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert")
            time.sleep(8)  # late duplicates show up now
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(nodes)
        logs = node_logs(tmp_path, 2)
        assert alive == [None, None], logs[-3000:]
        got = alerts(telegram, pages)
        extra = {u: n - 1 for u, n in got.items() if n > 1}
        assert sum(extra.values()) <= 1, f"one freeze, {sum(extra.values())} duplicates: {extra}\n{logs[-4000:]}"


def _pending(db: str) -> int:
    import psycopg

    with psycopg.connect(db.replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT count(*) FROM alerts WHERE status = 'pending'").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.xfail(
    strict=True,
    reason="redteam17b #1: a node frozen while it waits for its channel's rate-limit slot (no send in "
    "flight) sends the alert on thaw although the node that took the channel over already sent it: "
    "the lease is checked only at mark_sent, after the message went out",
)
def test_a_node_frozen_before_its_send_sends_nothing_on_thaw(tmp_path, web_server, fake_telegram_unpatched):
    """No message is in flight when the holder freezes (it sleeps on the rate limit), so the
    promise allows no duplicate at all: the takeover sends each alert, the thawed node none."""
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first_pages = site(web, 1)
    with fresh_pg_database() as db:
        config = cluster_config(
            tmp_path / "config.yaml",
            db,
            [("F0", web.url("/f0.xml"))],
            covering_terms(arts),
            telegram.base_url,
            cluster_stall_after="4s",
        )
        text = config.read_text().replace("rate: 50/s", "rate: 1/20s")
        config.write_text(text)
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(2)]
        try:
            wait_until(lambda: len(telegram.calls) >= 1, "the first alert")
            pages = grow(web, per_feed)
            wait_until(lambda: len(telegram.calls) >= 2, "the second alert (one slot later)")
            wait_until(lambda: _pending(db) >= 2, "the new alerts queued")
            # the holder now sleeps ~20 s on the rate limit before its next send: freeze it there
            frozen = nodes[int(wait_until(lambda: holder(db, tmp_path, 2), "the node holding the send"))]
            calls_at_freeze = len(telegram.calls)
            frozen.send_signal(signal.SIGSTOP)
            wait_until(lambda: "stalled job " in node_logs(tmp_path, 2), "the takeover")
            wait_until(lambda: len(telegram.calls) > calls_at_freeze, "the survivor's first send")
            frozen.send_signal(signal.SIGCONT)
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert", timeout=3 * SAFETY)
            time.sleep(8)
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(nodes)
        logs = node_logs(tmp_path, 2)
        assert alive == [None, None], logs[-3000:]
        got = alerts(telegram, pages)
        assert set(got) == set(pages), "lost alerts"
        extra = {u: n - 1 for u, n in got.items() if n > 1}
        assert not extra, f"no send was in flight at the freeze, yet duplicates: {extra}\n{logs[-3000:]}"
