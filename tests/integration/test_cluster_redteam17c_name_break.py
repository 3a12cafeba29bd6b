"""Red team 17c #4: a node's name is claimed by one live process (issue 17) on the real
PostgreSQL, even when two live processes have the same host name and pid: two containers
on the host's network (`network_mode: host`) are both pid 1 on one hostname. Live is the
name's session lock (storage/cluster.py ``claim_node``), never a guess from host and pid;
a default name (MONITOR_NODE unset) carries a random suffix, so it is unique per process.

Each first node is a real process (pid and hostname set to the container's: 1 and one host
name), killed (-9) or frozen (SIGSTOP) as a row says; the second is this process, with the
same host name and pid.

Rebuilt (no text copied) from public reports of the kind:
- rq/rq#1026 and docker/compose#2327: workers named host+pid collide in containers (same
  hostname, pid 1 each); rq added a random id to the name.
- laws-africa/indigo#1950: pids are not unique across containers, so a worker took a lock
  it did not own.
- NousResearch/hermes-agent#104125: a claim ``host:pid`` judged dead because the pid is no
  process in the checker's pid namespace, while the holder lived in another container.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from monitor.config.load import parse_config
from monitor.errors import ConfigError
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from tests.integration.test_cluster_holds import CONFIG, cluster_node

pytestmark = pytest.mark.integration

HOST = "dockerhost"

FIRST = """
import os, socket, sys, time
os.getpid = lambda: int(sys.argv[2])
socket.gethostname = lambda: sys.argv[3]
from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.storage import Store
from tests.integration.test_cluster_holds import CONFIG
config = parse_config(CONFIG.format(url=sys.argv[1], rate="1/s").replace("3s", "60s"), env={})
node = ClusterNode(Pipeline(config, Store(sys.argv[1]), Fetcher(timeout=5.0, user_agent="t")))
node.claim_name()
print("held", node.name, flush=True)
while True:  # beats as a live node does (a frozen one stops)
    node.store.beat(node.node, worker_id=None, stall_after=60.0)
    time.sleep(0.5)
"""

# (case, MONITOR_NODE of both (None: unset), the first's pid, what becomes of the first
# before the second starts (None: lives on, or the signal), the outcome: "both" = the
# second runs under a name of its own and the first keeps its; "refused" = the second exits
# 2 naming MONITOR_NODE; "taken" = the second takes the name at once; "renamed" = the second
# runs under a name of its own and marks the dead first's row stopped)
ROWS = [
    ("two live containers' pid 1, MONITOR_NODE unset (rq/rq#1026, compose#2327)", None, 1, None, "both"),
    ("two live containers' pid 1, MONITOR_NODE set twice (laws-africa/indigo#1950)", "a", 1, None, "refused"),
    ("a live container whose pid is no process here (hermes-agent#104125)", "a", 999_999, None, "refused"),
    ("a frozen container (SIGSTOP), MONITOR_NODE set twice", "a", 1, signal.SIGSTOP, "refused"),
    ("restart of one container: its pid 1 killed -9, started again", "a", 1, signal.SIGKILL, "taken"),
    ("restart of one container, MONITOR_NODE unset: a new name", None, 1, signal.SIGKILL, "renamed"),
]


@pytest.mark.parametrize("case,name,pid,fate,outcome", ROWS, ids=[r[0] for r in ROWS])
def test_a_node_name_is_one_live_processes_even_when_host_and_pid_collide(monkeypatch, case, name, pid, fate, outcome):
    if name is None:
        monkeypatch.delenv("MONITOR_NODE", raising=False)
    else:
        monkeypatch.setenv("MONITOR_NODE", name)
    with cluster_node() as node:
        url = node.pipeline.config.storage_url
        # a stall timeout far above the test's pace: "silent" is the holds table's business
        config = parse_config(CONFIG.format(url=url, rate="1/s").replace("3s", "60s"), env={})
        env = dict(os.environ, PYTHONPATH=os.getcwd())
        first = subprocess.Popen(
            [sys.executable, "-c", FIRST, url, str(pid), HOST], stdout=subprocess.PIPE, text=True, env=env
        )
        assert first.stdout is not None
        try:
            held, first_name = first.stdout.readline().split()
            assert held == "held", case
            if fate is not None:
                os.kill(first.pid, fate)
                if fate == signal.SIGKILL:
                    first.wait(60)
            with monkeypatch.context() as m:  # the second container: the same host name and pid
                m.setattr(os, "getpid", lambda: pid)
                m.setattr(socket, "gethostname", lambda: HOST)
                second = ClusterNode(Pipeline(config, node.store, node.pipeline.fetcher))
            assert (second.host, second.pid) == (HOST, pid), case
            if outcome == "refused":
                with pytest.raises(ConfigError, match=f"MONITOR_NODE='{name}' is in use by another running node"):
                    second.claim_name()
            else:
                second.claim_name()
            rows = {
                r.name: (r.host, r.pid, r.started_at == second.started_at, r.stopped_at is not None)
                for r in node.store.nodes()
            }
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(60)
            first.stdout.close()
    if outcome in ("both", "renamed"):
        assert second.name != first_name, case
        gone = outcome == "renamed"
        assert rows == {first_name: (HOST, pid, False, gone), second.name: (HOST, pid, True, False)}, case
    elif outcome == "refused":
        assert rows == {first_name: (HOST, pid, False, False)}, case  # the first keeps its row
    else:
        assert second.name == first_name and rows == {first_name: (HOST, pid, True, False)}, case
