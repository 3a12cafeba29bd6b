"""redteam17b: a node frozen (SIGSTOP) past the stall timeout in the middle of a poll (its
article pages answer slowly), its poll taken over, then thawed. A freeze is at most a
"kill": at most one page fetched again, and every alert once.

Public reports of the kind: celery/celery#3270 (one task run by several workers at once) and
celery/celery#5935 (a long task redelivered while still running); procrastinate-org/procrastinate#740.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.support.cluster import cluster_config, covering_terms, node_logs, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import articles, serve_feed, wait_until

pytestmark = pytest.mark.acceptance

N = 4


def poll_holder(db: str, tmp_path, n: int) -> str | None:
    import psycopg

    with psycopg.connect(db.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT worker_id FROM procrastinate_jobs WHERE task_name = 'monitor.poll' AND status = 'doing'"
        ).fetchone()
    if row is None:
        return None
    for i in range(n):
        log = tmp_path / f"n{i}.log"
        if log.exists() and f"worker={row[0]}\n" in log.read_text():
            return str(i)
    return None


def test_a_thawed_poller_refetches_at_most_one_page(tmp_path, web_server, fake_telegram_unpatched):
    web, telegram = web_server, fake_telegram_unpatched
    arts = articles("2015-07-21", 0, N)
    pages = serve_feed(web, "/f0.xml", arts, delay=2.0)
    paths = [p.split(str(web.port), 1)[1] for p in pages]
    with fresh_pg_database() as db:
        config = cluster_config(
            tmp_path / "config.yaml",
            db,
            [("F0", web.url("/f0.xml"))],
            covering_terms(arts),
            telegram.base_url,
            cluster_stall_after="4s",
        )
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(2)]
        try:
            wait_until(lambda: any(web.requests_for(p) for p in paths), "a page fetch")
            frozen = nodes[int(wait_until(lambda: poll_holder(db, tmp_path, 2), "the polling node"))]
            frozen.send_signal(signal.SIGSTOP)
            wait_until(lambda: "stalled job " in node_logs(tmp_path, 2), "the takeover")
            wait_until(lambda: all(any(p in m.text for m in telegram.messages) for p in pages), "every alert")
            frozen.send_signal(signal.SIGCONT)
            time.sleep(15)  # the thawed poll goes on now
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(nodes)
        logs = node_logs(tmp_path, 2)
        assert alive == [None, None], logs[-3000:]
        per_page = [sum(p in m.text for m in telegram.messages) for p in pages]
        fetched = [len(web.requests_for(p)) for p in paths]
        assert per_page == [1] * N, f"alerts per page {per_page}"
        assert sum(f - 1 for f in fetched) <= 1, f"one freeze, fetches per page {fetched}"
