"""numpy's OpenBLAS starts no thread pool in a monitor process (issue 16; monitor/__init__.py).

The fingerprint uses numpy's element-wise arithmetic only; OpenBLAS's pool of one polling
thread per core cost ≈ 40 ms per import and ≈ 2% of a working pass. Each row runs a fresh
interpreter (OpenBLAS reads its setting once, when numpy is loaded)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ARTICLES = Path(__file__).resolve().parent.parent / "fixtures" / "saudinewsnet" / "2015-07-21.jsonl"
PROBE = """
import json, os, sys
import monitor.dedup.neardup as neardup
with open(sys.argv[1], encoding="utf-8") as f:
    article = json.loads(f.readline())
fp = neardup.fingerprint(article["content"])
assert fp.bands, "no fingerprint"
print(repr(os.environ.get("OPENBLAS_NUM_THREADS")), len(os.listdir("/proc/self/task")))
"""

ROWS = [
    # (the variable the user set, its value, OPENBLAS_NUM_THREADS seen in the process, threads at most)
    pytest.param(None, None, "1", 1, id="unset: one thread, no pool"),
    pytest.param("OPENBLAS_NUM_THREADS", "2", "2", None, id="the user's value kept"),
    pytest.param("OPENBLAS_NUM_THREADS", "", "", None, id="an empty value is the user's too"),
    # OpenBLAS reads these when OPENBLAS_NUM_THREADS is unset: the user's choice stands (redteam16c)
    pytest.param("OMP_NUM_THREADS", "2", None, None, id="the user's OMP_NUM_THREADS kept"),
    pytest.param("GOTO_NUM_THREADS", "2", None, None, id="the user's GOTO_NUM_THREADS kept"),
]


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
@pytest.mark.parametrize(("variable", "user", "seen", "threads"), ROWS)
def test_openblas_threads(variable: str | None, user: str | None, seen: str | None, threads: int | None) -> None:
    blas = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if k not in blas}
    if variable is not None and user is not None:
        env[variable] = user
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(ARTICLES)], env=env, capture_output=True, text=True, check=True
    )
    value, count = out.stdout.split()
    assert value == repr(seen)
    if threads is not None and (os.cpu_count() or 1) > 1:
        # without the setting, OpenBLAS starts one thread per core besides the main one
        assert int(count) <= threads, out.stdout
