"""Cluster mode against the real PostgreSQL: the send fence (Lease) and taking over a dead
node's jobs, including the procrastinate reports this design had to survive.

Rebuilt (no text copied) from public reports:
- procrastinate-org/procrastinate#1446 and #1543: retrying a stalled job whose queueing
  lock is already taken by a waiting copy breaks the unique queueing-lock index; the
  takeover must fail the stalled job instead and let the copy run.
- procrastinate-org/procrastinate#1408: the job that retries stalled jobs can stall
  itself; our tick has a queueing lock but no lock, so a dead node's tick never blocks
  the other nodes' ticks.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode, conninfo
from monitor.storage import QUEUE, Lease, Store
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


@pytest.fixture
def node():
    with fresh_pg_database() as url:
        config = parse_config(CONFIG.format(url=url), env={})
        store = Store(url)
        fetcher = Fetcher(timeout=5.0, user_agent="monitor-test")
        n = ClusterNode(Pipeline(config, store, fetcher))
        try:
            yield n
        finally:
            fetcher.close()
            store.close()


def _sql(node: ClusterNode, query: str, *args: object) -> list[tuple]:
    with psycopg.connect(conninfo(node.pipeline.config.storage_url), autocommit=True) as conn:
        cur = conn.execute(query, args)
        return cur.fetchall() if cur.description else []


def _dead_worker(node: ClusterNode) -> int:
    """A worker row whose heartbeat is an hour old (a node killed -9)."""
    return int(
        _sql(
            node, "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        )[0][0]
    )


def _job(node: ClusterNode, task: str, lock: str, qlock: str, status: str, worker: int | None) -> int:
    return int(
        _sql(
            node,
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, status, worker_id) "
            "VALUES (%s, %s, %s, %s, '{}', %s, %s) RETURNING id",
            QUEUE,
            task,
            lock,
            qlock,
            status,
            worker,
        )[0][0]
    )


async def _rerun(node: ClusterNode) -> None:
    async with node.app.open_async():
        await node._rerun_stalled()


def _status(node: ClusterNode, job: int) -> str:
    rows = _sql(node, "SELECT status::text FROM procrastinate_jobs WHERE id = %s", job)
    return str(rows[0][0]) if rows else "deleted"


# (case, a waiting copy with the same queueing lock exists, status of the stalled job after takeover)
TAKEOVER = [
    ("no copy waiting: the stalled job goes back to the queue", False, "todo"),
    # deleted, not failed: nothing failed, and jobs_failed must not count a routine takeover
    ("a copy waits (procrastinate #1446/#1543): the stalled job is deleted, the copy runs", True, "deleted"),
]


@pytest.mark.parametrize("case,copy,after", TAKEOVER, ids=[t[0] for t in TAKEOVER])
def test_a_dead_nodes_job_is_taken_over(node, case, copy, after):
    dead = _dead_worker(node)
    stalled = _job(node, "monitor.send", "channel:tg", "send:tg", "doing", dead)
    waiting = _job(node, "monitor.send", "channel:tg", "send:tg", "todo", None) if copy else None
    assert node.store.job_counts(3.0).stalled == 1
    asyncio.run(_rerun(node))
    assert _status(node, stalled) == after
    if waiting is not None:
        assert _status(node, waiting) == "todo"
    assert node.store.job_counts(3.0).stalled == 0
    # the channel's lock is free for a live node again: nothing of it is still "doing"
    assert not _sql(node, "SELECT id FROM procrastinate_jobs WHERE lock = 'channel:tg' AND status = 'doing'")


def test_a_dead_nodes_tick_does_not_block_the_others(node):
    """procrastinate #1408: a stalled tick job must not stop the ticks (no lock on it)."""
    tick = node.app.tasks["monitor.tick"]
    assert tick.lock is None and tick.queueing_lock == "tick"
    dead = _dead_worker(node)
    _job(node, "monitor.tick", None, "tick", "doing", dead)
    asyncio.run(_rerun(node))  # what a live node's tick does: and it ran, under the dead one's
    assert node.store.job_counts(3.0).stalled == 0


# (case, the job still runs under our worker, mark_sent counts)
FENCE = [
    ("the lease holds", "doing", True),
    ("the job was rerun elsewhere: back to todo", "todo", False),
    ("the job was failed by a takeover", "failed", False),
]


@pytest.mark.parametrize("case,status,counts", FENCE, ids=[f[0] for f in FENCE])
def test_mark_sent_only_counts_while_the_lease_holds(node, case, status, counts):
    store = node.store
    worker = int(_sql(node, "INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")[0][0])
    job = _job(node, "monitor.send", "channel:tg", "send:tg", status, worker)
    alert_id = _alert(node)
    assert store.mark_sent(alert_id, datetime.now(UTC), Lease(job, worker)) is counts
    assert (store.get_alert(alert_id).status == "sent") is counts
    assert store.mark_sent(alert_id, datetime.now(UTC), Lease(job, worker + 1)) is False  # another worker


def _alert(node: ClusterNode) -> int:
    """One pending alert of channel tg (rows by hand: the fence, not the pipeline, is under test)."""
    article = int(
        _sql(
            node,
            "INSERT INTO articles (url, url_key, feed, outlet, guid, title, body, status, fetch_attempts, text_source) "
            "VALUES ('http://a/1', 'a/1', 'F', '', '', 't', 'x', 'done', 0, '') RETURNING id",
        )[0][0]
    )
    return int(
        _sql(
            node,
            "INSERT INTO alerts (article_id, topic_id, channel, subject, text, html, status, attempts, created_at, delivered) "
            "VALUES (%s, 't', 'tg', 's', 'x', 'x', 'pending', 0, now(), '') RETURNING id",
            article,
        )[0][0]
    )


# (case, the channel's rate, seconds since the previous holder's send, wait expected)
RATES = [
    ("1/s, sent 0.3 s ago by another node", "1/s", 0.3, 0.7),
    ("1/s, sent 5 s ago", "1/s", 5.0, 0.0),
    ("no limit", None, 0.1, 0.0),
]


@pytest.mark.parametrize("case,rate,ago,wait", RATES, ids=[r[0] for r in RATES])
def test_a_new_holder_keeps_the_channels_rate(node, case, rate, ago, wait):
    """The rate limit holds across the cluster: the node taking a channel over starts from
    the sends in the store, not from its own (empty) memory."""
    from dataclasses import replace

    from monitor.delivery.outbox import ChannelSender

    config = node.pipeline.config
    options = dict(config.channel_options)
    options["tg"] = options["tg"].model_copy(update={"rate": rate if rate else []})
    sender = ChannelSender(replace(config, channel_options=options), node.store, "tg")
    alert_id = _alert(node)
    node.store.mark_sent(alert_id, datetime.now(UTC) - timedelta(seconds=ago))
    sender.take_over(Lease(1, 1))
    limiter = sender.targets[0].limiter
    assert limiter.wait_time(limiter.clock()) == pytest.approx(wait, abs=0.1)
