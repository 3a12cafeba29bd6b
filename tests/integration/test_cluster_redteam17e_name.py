"""Red team 17e #5: a live node's name after its name lock's connection is cut, on the real
PostgreSQL (in-process nodes).

A node's name is a session-level advisory lock on a connection of its own
(storage/claims.py ``SessionLock``); the node notices the connection is gone and takes the
lock again only at its next heartbeat. A server restart or failover, ``idle_session_timeout``
on managed PostgreSQL, a proxy's idle cut or an operator's ``pg_terminate_backend`` cut it;
a namesake starting in that gap (a second host given the same MONITOR_NODE, restarted by
systemd after each refusal) takes the name of a node that is alive and beating, and the
first node only logs "node name taken" and runs on: two live processes under one name,
which the start check exists to prevent (one hides the other's death).
A live node whose lock was cut cannot be told from a kill -9 followed by a quick restart
(which must take its name back at once, redteam17c #4), so the namesake's start is not
refused; instead the node that lost its name finds it at its next beat and reports itself
unhealthy (`/healthz` 503, the watchdog starved) until restarted, when it is refused.
Same kind as https://github.com/celery/celery/issues/2046 (two workers under one node name)
and https://github.com/lablup/backend.ai/issues/1826 (a lock's connection closed by the
server while held; the next holder takes it).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from monitor.config.load import parse_config
from monitor.errors import ConfigError
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from tests.integration.test_cluster_holds import CONFIG, cluster_node
from tests.support.cluster import sql

pytestmark = pytest.mark.integration

NAME_SPACE = 0x6E6F64  # storage/cluster.py's first key of a node's name lock
CUT = [
    ("pg_terminate_backend of the name lock's session", "SELECT pg_terminate_backend(pid)"),
    ("the session cancelled, then closed by the server", "SELECT pg_cancel_backend(pid), pg_terminate_backend(pid)"),
]


@pytest.mark.parametrize("case,cut", CUT, ids=[c[0] for c in CUT])
def test_a_live_node_whose_name_was_taken_reports_itself_unhealthy(monkeypatch, case, cut):
    monkeypatch.setenv("MONITOR_NODE", "n1")
    with cluster_node() as first:
        url = first.pipeline.config.storage_url
        first.claim_name()
        # as while its worker runs: the row beats only then
        first._worker_alive.set()
        first._procrastinate_worker = SimpleNamespace(worker_id=1)
        first._beat_row()
        assert "taken" not in first.progress()[1], case
        sql(url, f"{cut} FROM pg_locks WHERE locktype = 'advisory' AND classid = {NAME_SPACE}::oid AND granted")
        config = parse_config(CONFIG.format(url=url, rate="1/s"), env={})
        second = ClusterNode(Pipeline(config, first.store, first.pipeline.fetcher))  # the namesake
        second.claim_name()  # the lock was free: as a restart after kill -9 would
        first._beat_row()  # the first's next beat
        healthy, reason = first.progress()
        assert not healthy and "node name n1 taken by another process" in reason, (case, reason)
        with pytest.raises(ConfigError, match="MONITOR_NODE='n1' is in use"):
            ClusterNode(Pipeline(config, first.store, first.pipeline.fetcher)).claim_name()  # a third is refused
