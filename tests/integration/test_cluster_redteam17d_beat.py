"""Red team 17d: a long `cluster_stall_after` (issue 17; README: "at least 3s", no upper bound).

#5 -- procrastinate's worker heartbeat was a sixth of the node's stall timeout, unbounded:
`cluster_stall_after: 1h` beat every 10 min, so a job end lost on a dropped connection (the
heartbeat re-records it a beat later, README) held the channel's lock and its alerts 10 min;
`7d` beat every 28 h, past PRUNE_WORKERS (1 day): every node's prune (and each worker start)
deleted the live worker's row, its running jobs then counted stalled and rerun elsewhere
while it ran them. Same kind as https://github.com/procrastinate-org/procrastinate/issues/1518
(a worker row pruned while its jobs are still `doing`: their recovery goes wrong) and
https://github.com/geolens-io/geolens/pull/632 (review: a stall sweep whose threshold is shorter
than a live worker's silence fails live work).
Fixed: the worker beats every min(10 s, timeout / 6).
"""

from __future__ import annotations

import pytest

from monitor.service.cluster import PRUNE_WORKERS
from monitor.service.daemon import HEARTBEAT_EVERY
from tests.integration.test_cluster_holds import CONFIG
from tests.support.cluster import node_on
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

# (cluster_stall_after as written, in seconds)
STALLS = [("3s", 3.0), ("30s", 30.0), ("10m", 600.0), ("1h", 3600.0), ("7d", 7 * 86400.0)]


@pytest.mark.parametrize("written,seconds", STALLS, ids=[s[0] for s in STALLS])
def test_a_node_beats_often_whatever_its_stall_timeout(monkeypatch, written, seconds):
    monkeypatch.setenv("MONITOR_NODE", "n")
    with fresh_pg_database() as url:
        text = CONFIG.format(url=url, rate="1/s").replace("cluster_stall_after: 3s", f"cluster_stall_after: {written}")
        with node_on(url, text) as node:
            assert node.pipeline.config.cluster_stall_after == seconds
    beat = node.worker_beat
    assert 3 * beat <= seconds, "fewer than 3 beats per stall timeout: one late beat is a death"
    assert beat <= HEARTBEAT_EVERY, f"a lost job end waits {beat:.0f}s to be recorded again"
    assert 3 * beat <= PRUNE_WORKERS, "the live worker's row is pruned between two beats"
