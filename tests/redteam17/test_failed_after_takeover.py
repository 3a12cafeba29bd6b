"""Red team (issue 17): /healthz and `monitor status` truthfulness after a routine
takeover. When a node dies holding a job and the tick has already queued a copy (the
usual case: the tick defers a copy every second while the work is due), the takeover
marks the dead node's job ``failed`` (service/cluster.py ``_rerun_stalled``, the
procrastinate #1446/#1543 workaround) although nothing failed: the copy does the work.
Nothing ever deletes those rows (the 6-hourly ``monitor.prune`` keeps them), so
``jobs_failed`` -- "failed for good" in storage/cluster.py ``JobCounts`` -- counts every
kill -9 the cluster ever had, and an operator alert on ``jobs_failed > 0`` fires forever.

Expected: after the takeover and the prune, ``jobs_failed`` is 0 (the job is deleted or
finished as succeeded/cancelled instead), or the prune forgets such rows.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode, conninfo
from monitor.storage import Store
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: true
cluster_stall_after: 3s
feeds: [{{name: F, url: "http://127.0.0.1:9/feed"}}]
channels: {{tg: "tgram://1:x/2"}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""


def _sql(url: str, query: str, *args: object) -> list[tuple]:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        cur = conn.execute(query, args)
        return cur.fetchall() if cur.description else []


async def _takeover_then_prune(node: ClusterNode) -> None:
    async with node.app.open_async():
        await node._rerun_stalled()
    node.app.tasks["monitor.prune"].func(0)  # the 6-hourly prune, as its job runs it


# (case, task, lock, queueing lock)
KILLED_HOLDING = [
    ("a send", "monitor.send", "channel:tg", "send:tg"),
    ("a poll", "monitor.poll", "feed:F", "poll:F"),
]


@pytest.mark.parametrize("case,task,lock,qlock", KILLED_HOLDING, ids=[k[0] for k in KILLED_HOLDING])
def test_a_routine_takeover_leaves_no_failed_job(case, task, lock, qlock):
    with fresh_pg_database() as url:
        config = parse_config(CONFIG.format(url=url), env={})
        store = Store(url)
        fetcher = Fetcher(timeout=5.0, user_agent="monitor-test")
        try:
            node = ClusterNode(Pipeline(config, store, fetcher))
            dead = _sql(
                url,
                "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id",
            )[0][0]
            insert = (
                "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, status, worker_id) "
                "VALUES ('default', %s, %s, %s, '{}', %s, %s) RETURNING id"
            )
            _sql(url, insert, task, lock, qlock, "doing", dead)  # the killed node's job
            _sql(url, insert, task, lock, qlock, "todo", None)  # the tick's copy, waiting for the lock
            asyncio.run(_takeover_then_prune(node))
            counts = store.job_counts(3.0)
        finally:
            fetcher.close()
            store.close()
        assert counts.failed == 0, f"{case}: after one kill -9 and the prune, jobs_failed={counts.failed} (for good)"
