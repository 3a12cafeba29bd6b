"""Red team (issue 17): a node frozen past `cluster_stall_after` (a paused VM) while another
node starts (a deploy, a reboot). procrastinate's worker start deletes the rows of
workers whose heartbeat is older than the stall timeout (``prune_stalled_workers``),
so the frozen node's worker row is gone when it thaws. Its next
``procrastinate_fetch_job_v2(..., worker_id)`` writes a worker id that no longer exists
into ``procrastinate_jobs.worker_id`` (a foreign key to ``procrastinate_workers``).

Expected (README "Running several nodes"): the thawed node goes back to work (or exits
so its supervisor restarts it), and `monitor status` does not call a node that does no
work alive. Rebuilt from procrastinate's own worker-pruning behaviour (no report text
copied): procrastinate-org/procrastinate discussions of workers pruned while alive.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from tests.redteam17.cluster_kit import alerts, site, stop
from tests.support.cluster import cluster_config, covering_terms, node_env, start_node
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import SAFETY, wait_until

pytestmark = pytest.mark.acceptance


@dataclass(frozen=True)
class Thawed:
    worked: bool  # the thawed node ran a job (or exited) within 60 s of SIGCONT
    running: bool  # its process still ran then
    status_line: str  # `monitor status`'s cluster line then
    healthz_reason: str  # what it said in its log after the thaw
    stop_code: int | None  # its exit code after SIGTERM
    tail: str  # its log after the thaw


@pytest.fixture(scope="module")
def thawed(tmp_path_factory) -> Thawed:
    """The scenario, run once for the module's tests."""
    from tests.support.telegram import FakeTelegram
    from tests.support.web import WebServer

    tmp_path = tmp_path_factory.mktemp("pruned")
    with WebServer() as web, FakeTelegram() as telegram, fresh_pg_database() as db:
        return _scenario(tmp_path, web, telegram, db)


def _scenario(tmp_path, web, telegram, db) -> Thawed:
    arts, per_feed, first = site(web)
    feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(len(per_feed))]
    config = cluster_config(
        tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, cluster_stall_after="3s"
    )
    nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(2)]
    frozen, log1 = nodes[1], tmp_path / "n1.log"
    mark = 0
    try:
        wait_until(lambda: set(alerts(telegram, first)) == set(first), "first alerts")
        frozen.send_signal(signal.SIGSTOP)
        time.sleep(6)  # twice the stall timeout
        nodes.append(start_node(config, "n2", tmp_path / "n2.log"))
        wait_until(lambda: "cluster node started" in (tmp_path / "n2.log").read_text(), "n2 started")
        time.sleep(1)
        frozen.send_signal(signal.SIGCONT)
        mark = len(log1.read_text())
        try:
            wait_until(
                lambda: (
                    "feed polled" in log1.read_text()[mark:]
                    or "channel taken" in log1.read_text()[mark:]
                    or frozen.poll() is not None
                ),
                "the thawed node working again",
                timeout=60,
            )
            worked = True
        except AssertionError:
            worked = False
        status = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "status"],
            capture_output=True,
            text=True,
            env=node_env("status"),
            cwd=tmp_path,
            timeout=SAFETY,
        )
        running = frozen.poll() is None
    finally:
        codes = stop(nodes)
    tail = log1.read_text()[mark:]
    line = next((x for x in status.stdout.splitlines() if x.startswith("cluster")), status.stdout)
    ended = next((x for x in tail.splitlines() if "cluster worker ended" in x), "")
    return Thawed(worked, running, line, ended, codes[1], tail)


def test_thawed_node_whose_worker_was_pruned_keeps_working(thawed):
    assert thawed.worked, (
        f"thawed node n1 still running={thawed.running} but ran no job for 60 s ({thawed.healthz_reason!r}); "
        f"status: {thawed.status_line}"
    )


def test_status_does_not_count_a_node_without_a_worker_alive(thawed):
    if thawed.worked:
        pytest.skip("the thawed node worked again: nothing to misreport")
    assert "n1" not in thawed.status_line.split("alive", 1)[1].split(")", 1)[0], thawed.status_line


def test_sigterm_stops_a_node_whose_worker_ended_cleanly(thawed):
    assert thawed.stop_code == 0 and "Traceback" not in thawed.tail, (
        f"exit code {thawed.stop_code}; log tail:\n{thawed.tail[-1500:]}"
    )
