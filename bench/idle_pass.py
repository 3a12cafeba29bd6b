#!/usr/bin/env python3
"""The idle pass alone, interleaved: `monitor once` where every feed answers 304, against the
plain script's idle run (issue 16: target ratio <= 1.2).

    python3 bench/idle_pass.py [--runs N] [--base DIR] [--articles A] [--feeds F] [--shared DIR]

versus_script.py's loopback site and config (F feeds, A corpus articles, its topics and json://
channel): each client (ours, the script, and --base's checkout when given) works the articles
once, untimed, then N idle passes of each run in turn (the order reversed every other round, so
a load change on this shared machine falls on all of them). Prints per client the median and
the best CPU seconds (user+sys of the child, os.wait4) and the ratios to the script. Checkouts
are compiled first, as installed (versus_script.install). Reads ../shared's corpus (--shared;
without it, says so and uses the tests/fixtures excerpts).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support: versus_script's fallback data
sys.path.insert(0, str(Path(__file__).resolve().parent))  # versus_script

import versus_script as vs  # bench/ is not a package: its folder is put on the path above


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--articles", type=int, default=90)
    ap.add_argument("--feeds", type=int, default=30)
    ap.add_argument("--base", default=None, help="another monitor checkout to run alongside (before/after)")
    ap.add_argument("--shared", default=None, help="folder holding corpus/ (default ../shared, else /work/shared)")
    args = ap.parse_args()
    shared = vs.shared_dir(args.shared)
    print(f"shared folder: {shared if shared else 'none found'}")
    arts, source = vs.load_articles(args.articles, shared)
    topics = vs.load_topics()
    site = vs.Site(arts, vs.build_pages(arts), args.feeds, 1)
    vs.serve(site)
    work = Path(tempfile.mkdtemp(prefix="idle-pass-"))
    trees = [("ours", vs.ROOT)] + ([("base", Path(args.base).resolve())] if args.base else [])
    vs.BASE.extend(t for n, t in trees if n == "base")
    for name, tree in trees:
        vs.INSTALLED[tree] = vs.install(tree, work / f"site-{name}")
    ours_cmd, plain_cmd = vs.setup(work, site, topics)
    clients = {"ours": (ours_cmd, work / "ours", vs.ROOT), "script": (plain_cmd, work / "plain", vs.ROOT)}
    if args.base:
        base_cmd = [a.replace(str(work / "ours"), str(work / "base")) for a in ours_cmd]
        clients["base"] = (base_cmd, work / "base", trees[1][1])
    for cmd, cwd, tree in clients.values():  # the working pass: every item new (untimed)
        vs.child(cmd, cwd, None, tree)
    cpu: dict[str, list[float]] = {name: [] for name in clients}
    names = list(clients)
    load0 = os.getloadavg()[0]
    for r in range(args.runs):
        for name in names if r % 2 else names[::-1]:
            cmd, cwd, tree = clients[name]
            cpu[name].append(vs.child(cmd, cwd, None, tree)[0])
    print(
        f"data: {source}; {len(arts)} articles, {args.feeds} feeds; {args.runs} idle passes each, "
        f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}; server saw {dict(sorted(site.hits.items()))}"
    )
    med_s, best_s = statistics.median(cpu["script"]), min(cpu["script"])
    for name, got in cpu.items():
        med, best = statistics.median(got), min(got)
        print(
            f"  {name:6s} median {med:.3f} s  best {best:.3f} s  ratio to script: median {med / med_s:.2f}, "
            f"best {best / best_s:.2f}   [{' '.join(f'{x:.2f}' for x in got)}]"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
