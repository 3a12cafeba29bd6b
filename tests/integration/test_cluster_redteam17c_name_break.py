"""Red team 17c: MONITOR_NODE claimed by one live process (issue 17) on the real PostgreSQL."""

from __future__ import annotations

import pytest

from monitor.errors import ConfigError
from tests.integration.test_cluster_holds import cluster_node

pytestmark = pytest.mark.integration


@pytest.mark.xfail(
    strict=True,
    reason="redteam17c #4: two live containers sharing the host's hostname (docker network_mode: host) are "
    "both pid 1 (MONITOR_NODE unset: both named host:1); the 'same host, same pid: a restarted container' rule lets the second take the live "
    "first's name without a word (the first then logs 'node name taken'; restarting it takes it back)",
)
def test_a_live_namesake_with_the_same_host_and_pid_is_refused():
    with cluster_node() as first:
        first.claim_name()
        assert first.store.beat(first.node, worker_id=None, stall_after=3.0)
        # the second container: same MONITOR_NODE, same hostname, pid 1 too (here: this very process)
        second = type(first)(first.pipeline)
        assert (second.name, second.host, second.pid) == (first.name, first.host, first.pid)
        with pytest.raises(ConfigError, match="is in use by another running node"):
            second.claim_name()
        assert first.store.beat(first.node, worker_id=None, stall_after=3.0)  # the first keeps its name
