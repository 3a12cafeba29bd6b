#!/usr/bin/env python3
"""Memory and time a hostile response costs the fetcher, measured in one run.

    python3 bench/fetch_limits.py [--max-bytes N] [--timeout S]

Serves the cases of tests/support/hostile.py (gzip, deflate and brotli bombs of 64 MiB of
zeros, an endless chunked body, a slow-drip body, headers dripped forever) from
127.0.0.1 and fetches each once with monitor.fetch.Fetcher (private networks
allowed, since the server is local). Per case it prints the error the fetcher
raised, the peak Python memory allocated during the fetch (tracemalloc), the CPU
seconds (time.process_time()) and the wall seconds. No corpus is needed (the
healthy pages come from tests/fixtures); the bombs are zeros by construction.
Target: peak memory stays near max_bytes (the body is kept up to the cap, never
the decompressed bomb) and every case ends within the timeout.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.errors import FetchError  # noqa: E402
from monitor.fetch.client import Fetcher  # noqa: E402
from tests.support.hostile import BOMB_SIZE, HostileServer  # noqa: E402

CASES = [
    "/gzip-bomb.xml",
    "/deflate-bomb.xml",
    "/brotli-bomb.xml",
    "/endless.xml",
    "/slow-drip.xml",
    "/slow-headers.xml",
    "/healthy.xml",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-bytes", type=int, default=10 * 1024 * 1024)
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args()
    print(f"max_bytes={args.max_bytes} timeout={args.timeout}s bombs={BOMB_SIZE // 2**20} MiB decompressed")
    worst = 0.0
    with HostileServer() as server:
        fetcher = Fetcher(
            timeout=args.timeout, user_agent="bench", max_bytes=args.max_bytes, allow_private_networks=True
        )
        for path in CASES:
            tracemalloc.start()
            cpu, wall = time.process_time(), time.monotonic()
            try:
                outcome = f"ok, {len(fetcher.get(server.url(path)).content)} bytes"
            except FetchError as exc:
                outcome = str(exc).split(": ", 1)[-1]
            cpu, wall = time.process_time() - cpu, time.monotonic() - wall
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            worst = max(worst, wall)
            print(f"{path:20s} peak {peak:6.1f} MiB  cpu {cpu:5.2f} s  wall {wall:5.2f} s  -> {outcome[:70]}")
        fetcher.close()
    print(f"longest case: {worst:.2f} s wall (timeout {args.timeout}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
