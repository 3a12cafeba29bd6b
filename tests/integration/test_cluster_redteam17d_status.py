"""Red team 17d: what /healthz and `monitor status` say of the nodes (issue 17), on the real
PostgreSQL, when the nodes run different `cluster_stall_after` (README: a rolling config
change; every node's own figure is in its row, and stalled jobs are judged by it).

#3 -- a node was called alive or dead by the *viewer's* `cluster_stall_after`, not its own:
a live node beating every 10 s (stall 120 s) showed dead to a viewer whose config says 3 s,
and a node dead past its own 3 s, whose jobs the summary already counts stalled and the tick
reruns, showed alive to a viewer whose config says 120 s. Same kind as db-scheduler#433
(liveness judged by another party's figure instead of the holder's own).
Fixed: alive is judged by the row's own stall_after (the viewer's only for rows without one).
"""

from __future__ import annotations

import pytest

from monitor.service.cluster_status import cluster_summary
from monitor.storage import QUEUE, Store
from tests.support.cluster import sql
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

# (case, the node's own stall_after (None: a row before 0011), its beat age s, the viewer's
#  cluster_stall_after, alive, its running job stalled)
ROWS = [
    ("live slow beater seen by a 3s viewer", 120.0, 8.0, 3.0, True, False),
    ("dead 3s node seen by a 120s viewer", 3.0, 20.0, 120.0, False, True),
    ("same settings, live", 30.0, 4.0, 30.0, True, False),
    ("same settings, dead", 30.0, 45.0, 30.0, False, True),
    ("row without its own figure: the viewer's", None, 20.0, 30.0, True, False),
]


@pytest.mark.parametrize("case,own,age,viewer,alive,stalled", ROWS, ids=[r[0] for r in ROWS])
def test_a_node_is_alive_by_its_own_stall_timeout(case, own, age, viewer, alive, stalled):
    with fresh_pg_database() as url:
        store = Store(url)
        try:
            (wid,) = sql(  # type: ignore[misc]
                url,
                "INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (clock_timestamp() - make_interval(secs => %s)) RETURNING id",
                age,
            )
            sql(
                url,
                "INSERT INTO cluster_nodes (name, host, pid, started_at, last_beat, worker_id, stall_after) "
                "VALUES ('n', 'h', 1, now(), clock_timestamp() - make_interval(secs => %s), %s, %s)",
                age,
                wid[0],
                own,
            )
            sql(
                url,
                "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, status, worker_id) "
                "VALUES (%s, 'monitor.poll', 'feed:F', 'doing', %s)",
                QUEUE,
                wid[0],
            )
            summary = cluster_summary(store, viewer, 1.0)  # as `monitor status` calls it
        finally:
            store.close()
    assert (summary["nodes_alive"], summary["jobs_stalled"]) == (int(alive), int(stalled)), summary


# the same kind at a start: a node claiming its MONITOR_NODE judged the holder's row by its
# own (shorter) figure, so it took the name of a live node that beats every 10 s
CLAIMS = [
    ("live slow beater, a 3s claimant", 120.0, 8.0, 3.0, False),
    ("dead 3s holder, a 120s claimant", 3.0, 20.0, 120.0, True),
]


@pytest.mark.parametrize("case,own,age,claimant,taken", CLAIMS, ids=[c[0] for c in CLAIMS])
def test_a_name_is_taken_from_a_holder_dead_by_its_own_stall_timeout(monkeypatch, case, own, age, claimant, taken):
    import socket

    from monitor.config.load import parse_config
    from monitor.errors import ConfigError
    from monitor.fetch.client import Fetcher
    from monitor.pipeline import Pipeline
    from monitor.service.cluster import ClusterNode
    from tests.integration.test_cluster_holds import CONFIG

    monkeypatch.setenv("MONITOR_NODE", "n")
    with fresh_pg_database() as url:
        store = Store(url)
        fetcher = Fetcher(timeout=5.0, user_agent="monitor-test")
        try:
            sql(
                url,
                "INSERT INTO cluster_nodes (name, host, pid, started_at, last_beat, stall_after) "
                "VALUES ('n', %s, 1, now(), clock_timestamp() - make_interval(secs => %s), %s)",
                "elsewhere-" + socket.gethostname(),
                age,
                own,
            )
            if not taken:  # a live holder holds its name's session lock (storage/cluster.py claim_node)
                holder = Store(url)
                assert holder.node_lock("n").acquire()
            text = CONFIG.format(url=url, rate="1/s").replace(
                "cluster_stall_after: 3s", f"cluster_stall_after: {claimant:.0f}s"
            )
            node = ClusterNode(Pipeline(parse_config(text, env={}), store, fetcher))
            try:
                node.claim_name()
                got = True
            except ConfigError:  # "MONITOR_NODE='n' is in use by another running node"
                got = False
        finally:
            fetcher.close()
            store.close()
            if not taken:
                holder.close()
    assert got == taken, case
