"""Red team (issue 17): the database drops the nodes' connections (a PostgreSQL restart,
a failover, pg_terminate_backend) at the moment a send job's end is being recorded.

procrastinate's ``finish_job`` fails on the killed connection ("Task exception was
never retrieved ... ConnectorException: Database error"), so the job's row stays
``doing`` under this node's worker -- which is alive and beating, so the tick never takes
it for stalled. The row keeps the lock ``channel:NAME``: no send job for the channel can
start again. Every later alert waits forever while the node polls, matches and looks
healthy. Seen first by chance (a terminate right after the first alerts); made
deterministic here: a test transaction holds the job row (``FOR UPDATE``) so the node's
finish waits on it, then the node's backends are terminated.

Expected: alerts after the blip are sent (the finish is retried on a fresh connection,
or a ``doing`` job of a live worker that is no longer running is requeued), or the node
exits so its supervisor restarts it.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.redteam17.cluster_kit import alerts, grow, logs, site, sql, stop
from tests.support.cluster import cluster_config, covering_terms, start_node
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance


def test_alerts_flow_after_the_connection_drops_while_a_send_job_ends(tmp_path, web_server, fake_telegram_unpatched):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first = site(web)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(len(per_feed))]
        config = cluster_config(
            tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, cluster_stall_after="3s"
        )
        telegram.queue(TelegramReply.slow(3.0))  # the first send is slow: time to hold its job row
        node = start_node(config, "n0", tmp_path / "n0.log")
        name = db.rsplit("/", 1)[1]
        jobs = None
        try:
            wait_until(lambda: len(telegram.calls) > 0, "a send in flight")
            with psycopg.connect(db.replace("+psycopg", "")) as holder:
                job = holder.execute(
                    "SELECT id FROM procrastinate_jobs WHERE task_name = 'monitor.send' AND status = 'doing' FOR UPDATE"
                ).fetchone()
                assert job is not None
                mine = holder.execute("SELECT pg_backend_pid()").fetchone()[0]
                wait_until(
                    lambda: sql(
                        db,
                        "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                        "AND query ILIKE '%%finish_job%%'",
                        name,
                    ),
                    "the node's finish_job waiting on the row",
                )
                sql(
                    db,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s "
                    "AND pid <> pg_backend_pid()",
                    name,
                    mine,
                )
                holder.rollback()
            wait_until(lambda: set(alerts(telegram, first)) == set(first), "first alerts")
            pages = grow(web, per_feed)
            try:
                wait_until(
                    lambda: set(alerts(telegram, pages)) == set(pages) or node.poll() is not None,
                    "alerts after the drop (or the node exiting)",
                )
            except AssertionError:
                jobs = sql(
                    db, "SELECT id, task_name, status, worker_id, lock FROM procrastinate_jobs WHERE status = 'doing'"
                )
            exited = node.poll()
        finally:
            stop([node])
        out = logs(tmp_path, 1)
        got = alerts(telegram, pages)
        assert exited is None or jobs is None, out[-2000:]
        assert set(got) == set(pages), (
            f"{len(pages) - len(got)} of {len(pages)} alerts never sent after the drop; node alive={exited is None}; "
            f"jobs still 'doing': {jobs}\n"
            + "\n".join(line for line in out.splitlines() if "exception" in line.lower() or "Database error" in line)[
                -1500:
            ]
        )
