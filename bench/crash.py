"""Crash test: SIGKILL the daemon at random moments while alerts flow, count lost and duplicated.

    python3 bench/crash.py [--kills 50] [--articles 300] [--seed 1]

Reads only tests/fixtures (real SaudiNewsNet articles), never ../shared. Serves them
from a local WebServer, sends to a local FakeTelegram (5 messages/s), kills the
daemon `--kills` times (60% of kills land just after a run's first send, the rest
at a random time in its first 4 s), then lets it drain and prints the counts.
Pass: lost == 0 and duplicates <= kills.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.crash_harness import run  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run(
            args.kills,
            articles=args.articles,
            seed=args.seed,
            workdir=Path(tmp),
            log=lambda m: print(m, file=sys.stderr),
        )
    print(
        f"kills={r.kills} kills_with_alerts_in_flight={r.kills_in_flight} articles={args.articles} "
        f"alerts={r.alerts} expected={r.expected} delivered={r.delivered} lost={r.lost} "
        f"duplicates={r.duplicates} seconds={r.seconds:.0f}"
    )
    ok = r.lost == 0 and r.duplicates <= r.kills and r.delivered == r.expected
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
