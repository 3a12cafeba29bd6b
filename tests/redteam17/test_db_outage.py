"""Red team (issue 17): the database is unreachable for a while (a PostgreSQL restart that
takes 15 s, a failover): every connection of the nodes is cut and new ones are refused
(``ALTER DATABASE ... ALLOW_CONNECTIONS false`` + pg_terminate_backend), then it comes
back. Expected: the node resumes polling and sending, or exits so its supervisor
restarts it (README's systemd unit restarts on failure) -- never stays up doing nothing
(`monitor status` from elsewhere would show it alive: its heartbeat row is written by the
daemon, not by the worker)."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.redteam17.cluster_kit import alerts, grow, logs, site, stop
from tests.support.cluster import cluster_config, covering_terms, start_node
from tests.support.databases import PG_DSN, fresh_pg_database
from tests.support.service_helpers import wait_until

pytestmark = pytest.mark.acceptance


def _admin(query: str, *args: object) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(query, args or None)


def test_node_resumes_or_exits_after_a_db_outage(tmp_path, web_server, fake_telegram_unpatched):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first = site(web)
    with fresh_pg_database() as db:
        name = db.rsplit("/", 1)[1]
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(len(per_feed))]
        config = cluster_config(
            tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, cluster_stall_after="3s"
        )
        node = start_node(config, "n0", tmp_path / "n0.log")
        try:
            wait_until(lambda: set(alerts(telegram, first)) == set(first), "first alerts")
            _admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            try:
                end = time.monotonic() + 15
                while time.monotonic() < end:  # the server is "down": cut whatever reconnects
                    _admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", name)
                    time.sleep(0.5)
            finally:
                _admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            pages = grow(web, per_feed)
            wait_until(
                lambda: set(alerts(telegram, pages)) == set(pages) or node.poll() is not None,
                "alerts after the outage (or the node exiting)",
            )
            code = node.poll()
        finally:
            stop([node])
        out = logs(tmp_path, 1)
        assert code is None or code != 0, (
            f"node exited 0 after an outage (a supervisor would not restart it)\n{out[-2000:]}"
        )
        if code is None:
            assert set(alerts(telegram, pages)) == set(pages), out[-2000:]
