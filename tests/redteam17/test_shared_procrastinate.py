"""Red team (issue 17): the database already has procrastinate's schema, applied by hand
(`procrastinate schema --apply`) for another application that queues its own jobs there
(README: "procrastinate's schema is applied by our migrations, not by hand" -- migration
0009 skips when ``procrastinate_jobs`` exists). A monitor node must start on it and must
not take the other application's jobs: its worker listens on every queue (``queues``
unset), fetches a job whose task it does not know and fails it for good.

Expected: the other application's job is still waiting (``todo``) after the node ran.
"""

from __future__ import annotations

import time

import pytest
from procrastinate.schema import SchemaManager

from tests.redteam17.cluster_kit import alerts, logs, site, sql, stop
from tests.support.cluster import cluster_config, covering_terms, start_node
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import wait_until

pytestmark = pytest.mark.acceptance

# (case, the other application's queue)
OTHER_JOBS = [
    ("another app on the default queue", "default"),
    ("another app on its own queue", "billing"),
]


@pytest.mark.parametrize("case,queue", OTHER_JOBS, ids=[o[0] for o in OTHER_JOBS])
def test_node_leaves_another_apps_jobs_alone(tmp_path, web_server, fake_telegram_unpatched, case, queue):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first = site(web)
    with fresh_pg_database() as db:
        import psycopg

        with psycopg.connect(db.replace("+psycopg", ""), autocommit=True) as conn:
            conn.cursor().execute(SchemaManager.get_schema())  # `procrastinate schema --apply`
        job = sql(
            db,
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status) "
            "VALUES (%s, 'billing.charge_card', '{\"order\": 7}', 'todo') RETURNING id",
            queue,
        )[0][0]
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(len(per_feed))]
        config = cluster_config(tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url)
        node = start_node(config, "n0", tmp_path / "n0.log")
        try:
            wait_until(lambda: set(alerts(telegram, first)) == set(first) or node.poll() is not None, "first alerts")
            time.sleep(3)
            status = sql(db, "SELECT status::text FROM procrastinate_jobs WHERE id = %s", job)
        finally:
            stop([node])
        out = logs(tmp_path, 1)
        assert status == [("todo",)], (
            f"{case}: the other application's job is now {status}\n"
            + "\n".join(line for line in out.splitlines() if "billing" in line or "charge_card" in line)[-1500:]
        )
