#!/usr/bin/env python3
"""One working round of `monitor once` from two checkouts, alternated on the same state (issue 16).

    python3 bench/ab_round.py BEFORE AFTER [--runs N] [--articles 600] [--feeds 30] [--shared DIR]

Serves the versus_script.py feeds and pages (real SaudiNewsNet articles from DIR/corpus, else
../shared, else /work/shared, else the tests/fixtures excerpts, and it says which), runs round 1
once with BEFORE (a fresh SQLite store), then N times each, alternating which goes first, copies
that store and runs round 2 (200 new articles with the defaults) from BEFORE and from AFTER on
their own copy. Each checkout's monitor/ is copied and compiled first, as an install would be.
Prints each side's CPU (user+sys from os.wait4) per run, the medians and AFTER/BEFORE. A smaller
change than versus_script.py can show: both sides do the same work from the same state, and
the alternation spreads the machine's load over both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import versus_script as vs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--articles", type=int, default=600)
    ap.add_argument("--feeds", type=int, default=30)
    ap.add_argument("--shared", default=None)
    args = ap.parse_args()
    trees = [Path(args.before).resolve(), Path(args.after).resolve()]
    arts, source = vs.load_articles(args.articles, vs.shared_dir(args.shared))
    print(f"data: {source}; {len(arts)} articles, {args.feeds} feeds; round 2 from the state after round 1")
    site = vs.Site(arts, vs.build_pages(arts), args.feeds, 3)
    srv = vs.serve(site)
    work = Path(tempfile.mkdtemp(prefix="ab-round-"))
    try:
        installed = [vs.install(t, work / f"site-{i}") for i, t in enumerate(trees)]
        ours_cmd, _ = vs.setup(work / "r", site, vs.load_topics())
        state = work / "r" / "ours"

        def run(side: int, folder: Path) -> float:
            cmd = [a.replace(str(state), str(folder)) for a in ours_cmd]
            env = {**os.environ, "PYTHONPATH": str(installed[side])}
            with open(folder / "out.txt", "w") as out:
                p = subprocess.Popen(cmd, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
                _, status, ru = os.wait4(p.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{trees[side]} failed: {(folder / 'out.txt').read_text()[-2000:]}")
            return ru.ru_utime + ru.ru_stime

        site.round = 1
        run(0, state)
        site.round = 2
        cpu: list[list[float]] = [[], []]
        for i in range(args.runs):
            for side in (0, 1) if i % 2 == 0 else (1, 0):
                folder = work / f"run{i}-{side}"
                shutil.copytree(state, folder, ignore=shutil.ignore_patterns("out.txt"))
                cpu[side].append(run(side, folder))
                shutil.rmtree(folder)
    finally:
        srv.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    med = [statistics.median(c) for c in cpu]
    for side in (0, 1):
        print(
            f"{'before' if side == 0 else 'after '} {trees[side]}: median {med[side]:.3f} s  runs {[round(x, 2) for x in cpu[side]]}"
        )
    print(f"after/before {med[1] / med[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
