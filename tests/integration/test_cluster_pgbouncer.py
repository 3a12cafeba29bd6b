"""Cluster nodes behind PgBouncer (a real one, started here on a free loopback port): a
node's name and the page claims are session-level advisory locks, which a pooler in
transaction mode hands from client to client. A node behind one refuses to start with the
cause and the fix; behind session pooling it starts. Skipped where pgbouncer is not
installed (Debian: apt-get install pgbouncer).

Rebuilt (no text copied) from public reports of the kind:
- goauthentik/authentik#23876: a session advisory lock taken through PgBouncer in
  transaction mode stayed on a pooled server session, and every later start waited on it.
- pgbouncer/pgbouncer#617: session-level advisory locks do not work in transaction
  pooling (a row of the features table).
- ClosureTree/with_advisory_lock#43: advisory locks with PgBouncer transaction pooling.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config.load import parse_config
from monitor.errors import StoreError
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.storage import Store
from tests.integration.test_cluster_holds import CONFIG, cluster_node
from tests.support.cluster import sql

pytestmark = pytest.mark.integration

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)

INI = """[databases]
* = host=127.0.0.1 port=5432 user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = {mode}
default_pool_size = 4
ignore_startup_parameters = extra_float_digits,options
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def pgbouncer(mode: str) -> Iterator[int]:
    """A PgBouncer in `mode` ("session" or "transaction") in front of the local PostgreSQL:
    its port. Run as user postgres when this is root (PgBouncer refuses root)."""
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed")
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    port = _free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(INI.format(port=port, folder=folder, mode=mode))
    user = ["-u", "postgres"] if os.geteuid() == 0 else []
    if user:
        shutil.chown(folder, "postgres")
        for f in folder.iterdir():
            shutil.chown(f, "postgres")
    proc = subprocess.Popen([PGBOUNCER, *user, str(folder / "pgbouncer.ini")], stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if proc.poll() is not None:
                pytest.fail(f"pgbouncer did not start: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stderr:
            proc.stderr.close()
        shutil.rmtree(folder, ignore_errors=True)


# (case, PgBouncer's pool_mode, the node starts)
MODES = [
    ("transaction pooling (authentik#23876, pgbouncer#617): refused with the fix", "transaction", False),
    ("session pooling (with_advisory_lock#43): starts", "session", True),
]


@pytest.mark.parametrize("case,mode,starts", MODES, ids=[m[0] for m in MODES])
def test_a_node_behind_a_transaction_pooler_refuses_to_start(case, mode, starts):
    with cluster_node() as direct, pgbouncer(mode) as port:
        url = direct.pipeline.config.storage_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
        assert url != direct.pipeline.config.storage_url
        config = parse_config(CONFIG.format(url=url, rate="1/s"), env={})
        store = Store(url)
        try:
            node = ClusterNode(Pipeline(config, store, Fetcher(timeout=5.0, user_agent="t")))
            if starts:
                node.claim_name()
            else:
                with pytest.raises(StoreError, match="not kept by its session .*PgBouncer pool_mode=transaction"):
                    node.claim_name()
        finally:
            store.close()
        # nothing left behind on the server: a direct node takes that name at once
        direct_url = direct.pipeline.config.storage_url
        left = sql(
            direct_url,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
    assert left == [(0,)], case
