"""Cluster mode, the send fence (issue 17; red team 17b): a node frozen (SIGSTOP, a paused
VM) past the stall timeout while it holds a channel's send, then thawed while the node that
took the channel over sends; a node's store connections cut mid-send; a second process
started under a frozen node's name.

The promise (README "Running several nodes"): every alert reaches the channel once; a
duplicate comes only from a message already in flight (a kill, a freeze mid-send, a lost
answer), at most one each. What holds it: the send job's lease (job, worker, attempt) is
checked right before each send and fences every outcome a send writes
(tests/integration/test_cluster_fence.py has the table of writes and lease states).

Public reports of the kind (rebuilt, no text copied): celery/celery#5935 and
pretix/pretix#2058 (a long task redelivered to a second worker while the first, only slow,
still ran it: mails sent twice); procrastinate-org/procrastinate#740 (retry a stalled job
only when reasonably sure it is not running any more); ayrat555/el_monitorro#66 (delivery
state written from a stale view after a partial failure); procrastinate-org/procrastinate#1116
(a worker's connection lost mid-job); procrastinate-org/procrastinate#1518 (scenario 2: a
restarted pod re-registers under the same worker name while its old jobs stay "doing").
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.cluster import (
    alerts,
    cluster_config,
    covering_terms,
    grow,
    job_holder,
    node_logs,
    site,
    sql,
    start_node,
    stop_nodes,
)
from tests.support.databases import PG_DSN, fresh_pg_database
from tests.support.service_helpers import SAFETY, wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

FEEDS = 3


def holder(db: str, tmp_path, n: int) -> str | None:
    return job_holder(db, tmp_path, n)


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
    rows = sql(db, "SELECT count(*) FROM alerts WHERE status = 'pending'")
    return int(rows[0][0]) if rows else 0


def test_a_node_frozen_before_its_send_sends_nothing_on_thaw(tmp_path, web_server, fake_telegram_unpatched):
    """Red team 17b #1: no message is in flight when the holder freezes (it waits in its job
    for the next rate-limit slot, 2 s at most: RATE_WAIT_IN_JOB; a farther slot ends the job
    and holds the channel instead), so the promise allows no duplicate at all: the takeover
    sends each alert, the thawed node none (it checks its lease right before the send; it
    sent on thaw before)."""
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
        text = config.read_text().replace("rate: 50/s", "rate: 1/2s")
        config.write_text(text)
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(2)]
        try:
            wait_until(lambda: len(telegram.calls) >= 1, "the first alert")
            pages = grow(web, per_feed)
            wait_until(lambda: len(telegram.calls) >= 2, "the second alert (one slot later)")
            wait_until(lambda: _pending(db) >= 2, "the new alerts queued")
            # the holder now waits (up to 2 s, in its job) for its next slot: freeze it there
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


def test_a_thawed_refusal_does_not_kill_a_delivered_alert(tmp_path, web_server, fake_telegram_unpatched):
    """Red team 17b #5: the frozen node's send in flight is answered 403 (the bot was blocked,
    then unblocked before the takeover's send). The takeover delivered the alert; the thawed
    node's verdict must not make it `dead` (mark_dead was not fenced, nor did it stop the drain)."""
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first_pages = site(web, 2)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(2)]
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


def _local_ports(pid: int) -> set[int]:
    """Local TCP ports of process `pid`'s sockets to port 5432 (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as f:
            for line in list(f)[1:]:
                cols = line.split()
                local, remote, inode = cols[1], cols[2], cols[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == 5432:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def _cut_node(db: str, pid: int) -> int:
    ports = _local_ports(pid)
    name = db.rsplit("/", 1)[1]
    rows = sql(
        PG_DSN,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND client_port = ANY(%s)",
        name,
        list(ports),
    )
    return len(rows or [])


def test_store_cut_while_a_send_is_in_flight(tmp_path, web_server, fake_telegram_unpatched):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first_pages = site(web, 2)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(2)]
        config = cluster_config(
            tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, cluster_stall_after="4s"
        )
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(2)]
        try:
            wait_until(lambda: sum(alerts(telegram, first_pages).values()) >= len(first_pages), "first alerts")
            telegram.queue(TelegramReply.slow(3.0))
            before = len(telegram.calls)
            pages = grow(web, per_feed)
            wait_until(lambda: len(telegram.calls) > before, "a send in flight")
            node = nodes[int(wait_until(lambda: holder(db, tmp_path, 2), "the node holding the send"))]
            cut = _cut_node(db, node.pid)
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert")
            time.sleep(10)
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(nodes)
        logs = node_logs(tmp_path, 2)
        assert cut >= 1, "no connection of the node was cut"
        assert alive == [None, None], logs[-3000:]
        got = alerts(telegram, pages)
        extra = {u: n - 1 for u, n in got.items() if n > 1}
        assert not extra, f"no kill, {cut} connections cut, yet duplicates: {extra}\n{logs[-3000:]}"


def test_same_name_restart_while_the_old_process_is_frozen(tmp_path, web_server, fake_telegram_unpatched):
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
            telegram.queue(TelegramReply.slow(3.0))
            before = len(telegram.calls)
            pages = grow(web, per_feed)
            wait_until(lambda: len(telegram.calls) > before, "a send in flight")
            i = int(wait_until(lambda: holder(db, tmp_path, 2), "the node holding the send"))
            nodes[i].send_signal(signal.SIGSTOP)
            nodes.append(start_node(config, f"n{i}", tmp_path / f"n{i}.log"))  # same name, same log
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert")
            nodes[i].send_signal(signal.SIGCONT)
            time.sleep(10)
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(nodes)
        logs = node_logs(tmp_path, 2)
        # the frozen process still lives (and holds the name): the namesake is refused with the
        # cause and the fix (exit 2), the other node takes the frozen one's work over
        assert alive == [None, None, 2], logs[-3000:]
        assert f"MONITOR_NODE='n{i}' is in use by another running node" in logs, logs[-3000:]
        got = alerts(telegram, pages)
        extra = {u: n - 1 for u, n in got.items() if n > 1}
        assert sum(extra.values()) <= 1, f"one freeze, duplicates {extra}\n{logs[-3000:]}"
