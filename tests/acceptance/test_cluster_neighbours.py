"""Cluster nodes beside other nodes and other applications (issue 17, red-team findings).

- Nodes whose `cluster_stall_after` differ (a rolling config change: one node restarted
  with a shorter timeout first) must not take each other's live work: a running job is
  stalled by its *holder's* timeout, recorded in the holder's node row.
- Another application's procrastinate jobs in the same schema (its schema applied by hand
  before ours) are left alone: our workers listen on queue ``monitor`` only.
"""

from __future__ import annotations

import time

import pytest
from procrastinate.schema import SchemaManager

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

# (case, node A's cluster_stall_after (None: the default 30 s), node B's)
STALL_SETTINGS = [
    ("A on the default, B restarted with 3 s first", None, "3s"),
    ("A on 20 s, B on 3 s", "20s", "3s"),
]


@pytest.mark.parametrize("case,stall_a,stall_b", STALL_SETTINGS, ids=[s[0] for s in STALL_SETTINGS])
def test_a_node_with_a_shorter_stall_timeout_does_not_take_live_work(
    tmp_path, web_server, fake_telegram_unpatched, case, stall_a, stall_b
):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first = site(web, FEEDS)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(FEEDS)]
        terms = covering_terms(arts)
        extra_a = {} if stall_a is None else {"cluster_stall_after": stall_a}
        config_a = cluster_config(tmp_path / "a.yaml", db, feeds, terms, telegram.base_url, **extra_a)
        config_b = cluster_config(tmp_path / "b.yaml", db, feeds, terms, telegram.base_url, cluster_stall_after=stall_b)
        nodes = [start_node(config_a, "n0", tmp_path / "n0.log")]
        try:
            wait_until(lambda: set(alerts(telegram, first)) == set(first), "first alerts (node A alone)")
            nodes.append(start_node(config_b, "n1", tmp_path / "n1.log"))
            wait_until(lambda: "cluster node started" in (tmp_path / "n1.log").read_text(), "node B started")
            # a slow Bot API (3.5 s an answer, under apprise's 4 s read timeout): sends take a while
            telegram.queue(*[TelegramReply.slow(3.5) for _ in range(6)])
            pages = grow(web, per_feed)
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert")
            time.sleep(8)
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(nodes)
        out = node_logs(tmp_path, 2)
        got = alerts(telegram, pages)
        trouble = [
            line for line in out.splitlines() if "stalled job" in line or "lease lost" in line or "worker ended" in line
        ]
        assert alive == [None, None], out[-2000:]
        duplicated = {u: n for u, n in got.items() if n > 1}
        assert not duplicated and not trouble, (
            f"{case}: no node died, yet duplicates {duplicated} and takeovers of live work:\n" + "\n".join(trouble)
        )


# (case, the other application's queue)
OTHER_JOBS = [
    ("another app on the default queue", "default"),
    ("another app on its own queue", "billing"),
]


@pytest.mark.parametrize("case,queue", OTHER_JOBS, ids=[o[0] for o in OTHER_JOBS])
def test_node_leaves_another_apps_jobs_alone(tmp_path, web_server, fake_telegram_unpatched, case, queue):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first = site(web, FEEDS)
    with fresh_pg_database() as db:
        sql(db, SchemaManager.get_schema())  # `procrastinate schema --apply`
        rows = sql(
            db,
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status) "
            "VALUES (%s, 'billing.charge_card', '{\"order\": 7}', 'todo') RETURNING id",
            queue,
        )
        assert rows
        job = rows[0][0]
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(FEEDS)]
        config = cluster_config(tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url)
        node = start_node(config, "n0", tmp_path / "n0.log")
        try:
            wait_until(lambda: set(alerts(telegram, first)) == set(first) or node.poll() is not None, "first alerts")
            time.sleep(3)
            status = sql(db, "SELECT status::text FROM procrastinate_jobs WHERE id = %s", job)
        finally:
            stop_nodes([node])
        out = node_logs(tmp_path, 1)
        assert status == [("todo",)], (
            f"{case}: the other application's job is now {status}\n"
            + "\n".join(line for line in out.splitlines() if "charge_card" in line)[-1500:]
        )
