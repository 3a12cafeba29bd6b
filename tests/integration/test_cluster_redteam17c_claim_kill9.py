"""Red team 17c: a process killed (-9) while it holds a page claim frees it (PostgreSQL drops
its advisory locks at disconnect); one frozen (SIGSTOP) keeps it, a waiter gives up (holds up)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from monitor.storage import Store
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

HOLDER = """
import sys, time
from monitor.storage import Store
store = Store(sys.argv[1])
with store.claim_page("example.com/a/1"):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("sig,granted", [(signal.SIGKILL, True), (signal.SIGSTOP, False)])
def test_a_killed_holders_claim_is_freed(sig, granted):
    with fresh_pg_database() as url:
        Store(url).close()  # migrated before the holder starts
        env = dict(os.environ, PYTHONPATH=os.getcwd())
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True, env=env)
        assert holder.stdout is not None
        try:
            assert holder.stdout.readline().strip() == "held"
            os.kill(holder.pid, sig)
            if sig == signal.SIGKILL:
                holder.wait(60)
            store = Store(url)
            try:
                with store.claim_page("example.com/a/1", wait=20.0) as got:
                    pass
            finally:
                store.close()
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait(60)
            holder.stdout.close()
    assert got is granted
