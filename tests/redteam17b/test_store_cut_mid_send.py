"""redteam17b: one node's PostgreSQL connections cut (its backends terminated, the others
untouched) while its send is in flight: the Bot API got the message, the store write after
it fails. No node was killed, so the promise allows no duplicate.

Public reports of the kind: procrastinate-org/procrastinate#1116 (a worker's connection lost
mid-job), ayrat555/el_monitorro#66 (the delivered mark written after the sends: a failure in
between resends them).
"""

from __future__ import annotations

import os
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
from tests.support.databases import PG_DSN, fresh_pg_database
from tests.support.service_helpers import wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance


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
