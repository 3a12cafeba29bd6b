"""redteam17b: a node frozen (SIGSTOP) while it holds a send, and a new process started
under the same MONITOR_NODE name (a supervisor that gave up on the frozen one), then the
old one thawed: two live processes share one node row. Nothing lost, at most one
duplicate (the in-flight send), and new items still alerted once afterwards.

Public report of the kind: procrastinate-org/procrastinate#1518 (scenario 2: a restarted
pod re-registers under the same worker name while its old jobs stay "doing").
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.redteam17b.test_frozen_sender import holder
from tests.support.cluster import alerts, cluster_config, covering_terms, grow, node_logs, site, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

FEEDS = 3


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
        assert alive == [None, None, None], logs[-3000:]
        got = alerts(telegram, pages)
        extra = {u: n - 1 for u, n in got.items() if n > 1}
        assert sum(extra.values()) <= 1, f"one freeze, duplicates {extra}\n{logs[-3000:]}"
