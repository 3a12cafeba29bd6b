"""Cluster mode on the real PostgreSQL (issue 17): two or three `monitor run` processes on
one database, local feeds with new items arriving, alerts caught by the fake Bot API.

Every alert must arrive exactly once and every article page be fetched once; with a
node killed (-9) mid-run, the survivors must take its feeds and its claimed sends over
(duplicates: at most one per kill, a send cut between the Bot API's answer and the
store's record). Only generous "eventually" waits, never a speed target.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.cluster import alerts, cluster_config, covering_terms, grow, node_env, site, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import SAFETY, wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

FEEDS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _page_fetches(web, pages: list[str]) -> dict[str, int]:
    paths = [p.split("127.0.0.1", 1)[1].split("/", 1)[1] for p in pages]
    return {p: len(web.requests_for("/" + p)) for p in paths}


def _holder(db: str, tmp_path) -> str | None:
    """The index (as text) of the node whose worker runs a send job now, from the jobs table
    and the node's "channel taken ... worker=W" log line; None when no send runs."""
    import psycopg

    with psycopg.connect(db.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT worker_id FROM procrastinate_jobs WHERE task_name = 'monitor.send' AND status = 'doing'"
        ).fetchone()
    if row is None:
        return None
    for i in range(3):
        log = tmp_path / f"n{i}.log"
        if log.exists() and f"worker={row[0]}\n" in log.read_text():
            return str(i)
    return None


@pytest.mark.parametrize("n_nodes", [2, 3])
def test_every_alert_once_and_every_page_fetched_once(tmp_path, web_server, fake_telegram_unpatched, n_nodes):
    """Also: /healthz and `monitor status` show every node alive, and a SIGHUP reload of one
    node keeps it working."""
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first_pages = site(web, FEEDS)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(FEEDS)]
        http = {"listen": "127.0.0.1:${NODE_PORT}"}
        config = cluster_config(tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, http=http)
        ports = [str(free_port()) for _ in range(n_nodes)]
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log", NODE_PORT=ports[i]) for i in range(n_nodes)]
        try:
            wait_until(lambda: sum(alerts(telegram, first_pages).values()) >= len(first_pages), "first alerts")
            nodes[-1].send_signal(signal.SIGHUP)
            wait_until(lambda: "config reloaded" in (tmp_path / f"n{n_nodes - 1}.log").read_text(), "the reload")
            pages = grow(web, per_feed)
            wait_until(lambda: sum(alerts(telegram, pages).values()) >= len(pages), "every alert")
            time.sleep(3)  # a late duplicate would show up now
            health = httpx.get(f"http://127.0.0.1:{ports[0]}/healthz", timeout=10).json()
            status = subprocess.run(
                [sys.executable, "-m", "monitor", "--config", str(config), "status"],
                capture_output=True,
                text=True,
                env=node_env("status", NODE_PORT=ports[0]),
                cwd=tmp_path,
                timeout=SAFETY,
            )
            statuses = [p.poll() for p in nodes]
        finally:
            codes = stop_nodes(nodes)
        logs = "\n".join((tmp_path / f"n{i}.log").read_text() for i in range(n_nodes))
        assert statuses == [None] * n_nodes, logs[-3000:]
        assert codes == [0] * n_nodes, logs[-3000:]  # SIGTERM: a clean stop on every node
        got = alerts(telegram, pages)
        assert set(got) == set(pages), "lost alerts"
        assert max(got.values()) == 1, f"duplicate alerts: {[u for u, n in got.items() if n > 1]}"
        fetches = _page_fetches(web, pages)
        assert set(fetches.values()) == {1}, f"pages fetched more than once: {fetches}"
        cluster = health["cluster"]
        assert cluster["nodes_alive"] == n_nodes and cluster["node"] == "n0", cluster
        assert sorted(n["name"] for n in cluster["nodes"] if n["alive"]) == [f"n{i}" for i in range(n_nodes)]
        assert cluster["jobs_stalled"] == 0 and cluster["jobs_failed"] == 0, cluster
        assert status.returncode == 0, status.stderr
        assert f"cluster: {n_nodes} node(s) alive" in status.stdout, status.stdout


def test_a_killed_node_s_feeds_and_send_are_taken_over(tmp_path, web_server, fake_telegram_unpatched):
    """kill -9 of the node holding a send (the Bot API is slow, so the kill lands mid-send):
    a survivor resends within the stall timeout; nothing lost, at most one duplicate."""
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
            telegram.queue(TelegramReply.slow(6.0))  # the next send hangs: its sender is killed in it
            before = len(telegram.calls)
            pages = grow(web, per_feed)
            wait_until(lambda: len(telegram.calls) > before, "a send in flight")
            holder = nodes[int(wait_until(lambda: _holder(db, tmp_path), "the node holding the send"))]
            holder.send_signal(signal.SIGKILL)
            holder.wait(SAFETY)
            polled = [len(web.requests_for(f"/f{i}.xml")) for i in range(FEEDS)]
            wait_until(
                lambda: all(len(web.requests_for(f"/f{i}.xml")) > polled[i] for i in range(FEEDS)),
                "every feed polled by the survivor",
            )
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert after the kill")
            time.sleep(3)
            survivors = [p for p in nodes if p is not holder]
            alive = [p.poll() for p in survivors]
        finally:
            stop_nodes(nodes)
        logs = "\n".join((tmp_path / f"n{i}.log").read_text() for i in range(2))
        assert alive == [None], logs[-3000:]
        got = alerts(telegram, pages)
        assert set(got) == set(pages), "lost alerts"
        assert sum(n - 1 for n in got.values()) <= 1, f"more than one duplicate for one kill: {got}"
        # taken over: the dead node's job rerun, or deleted in favour of its waiting copy
        assert "stalled job rerun" in logs or "stalled job superseded" in logs, logs[-3000:]
