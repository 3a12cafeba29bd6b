#!/usr/bin/env python3
"""Peak RSS and CPU each amplification input costs its reader, at three sizes (issue 14).

    python3 bench/hostile_costs.py [--base KB] [--only NAME]

Each input of tests/support/amplify.py (feeds, a .gz sitemap, a flat article page, a
YAML alias bomb) is built at base, 2x base and 4x base and handed to the reader that
takes it (parse_feed_result, parse_sitemap, check_page + extract, parse_config) in a
fresh interpreter, so peak RSS (ru_maxrss) is that run's own. Printed per run: input
size, CPU seconds, peak RSS minus the interpreter's RSS before the call, and the
outcome. Target: CPU and memory grow at most linearly with the input (the 4x/1x
column stays near 4 or below) and every run stays under its budget.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from tests.support import amplify as A
name, size = sys.argv[2], int(sys.argv[3])
if name == "gz_sitemap_bomb":
    data = A.gz_sitemap_bomb(size * 64)
elif name == "gz_multimember":
    data = A.gz_multimember(size * 64)
elif name == "flat_p_page":
    data = A.flat_p_page(size)
elif name == "yaml_alias_bomb":
    data = A.yaml_alias_bomb(9 + size // (256 * 1024)).encode()
else:
    data = A.AMPLIFIERS[name](size)
from monitor.config.load import parse_config
from monitor.extract.article import extract
from monitor.extract.htmlcheck import check_page
from monitor.fetch.budget import Budget
from monitor.sources.rss import parse_feed_result
from monitor.sources.sitemap import parse_sitemap
budget = Budget(max_bytes=1024 * 1024 * 10)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c0 = time.process_time()
try:
    if name.startswith("gz_"):
        out = f"{len(parse_sitemap('s', data, 'http://x/s.gz', budget=budget).items)} items"
    elif name == "flat_p_page":
        checked = check_page(data.decode(), "http://x/", budget)
        try:
            extract(checked.text, "http://x/")
            out = "extracted"
        except Exception as exc:
            out = type(exc).__name__
        out += "; " + (checked.warning[:50] or "whole page")
    elif name == "yaml_alias_bomb":
        parse_config(data.decode(), env={})
        out = "loaded"
    else:
        r = parse_feed_result("f", data, "http://127.0.0.1/", budget=budget)
        out = f"{len(r.items)} items, longest title {max((len(i.title) for i in r.items), default=0)}"
except Exception as exc:
    out = f"{type(exc).__name__}: {str(exc)[:60]}"
cpu = time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"bytes": len(data), "cpu": cpu, "rss_mb": (peak - base) / 1024, "out": out}))
"""

NAMES = [
    "comment_open_flood",
    "cdata_open_flood",
    "tag_open_flood",
    "quote_open_flood",
    "lt_flood_summary",
    "doctype_bomb",
    "doctype_bomb_pi",
    "doctype_bomb_utf16",
    "many_items_feed",
    "gz_sitemap_bomb",
    "gz_multimember",
    "flat_p_page",
    "yaml_alias_bomb",
]


def run(name: str, size: int) -> dict[str, object]:
    p = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), name, str(size)], capture_output=True, text=True, check=False
    )
    try:
        return dict(json.loads(p.stdout.strip().splitlines()[-1]))
    except (IndexError, ValueError):
        return {"bytes": 0, "cpu": 0.0, "rss_mb": 0.0, "out": "crashed: " + p.stderr[-120:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=int, default=512, help="smallest input, KB (gz: x64 once inflated)")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    print(f"{'input':22} {'size':>9} {'cpu s':>7} {'rss MB':>7}  outcome")
    for name in [n for n in NAMES if not args.only or n == args.only]:
        cpus = []
        for mult in (1, 2, 4):
            r = run(name, args.base * 1024 * mult)
            cpus.append(float(r["cpu"]))  # type: ignore[arg-type]
            print(
                f"{name:22} {int(r['bytes']) // 1024:>7}KB {float(r['cpu']):7.2f} {float(r['rss_mb']):7.1f}  {r['out']}"
            )  # type: ignore[arg-type]
        print(f"{'':22} cpu 4x/1x = {cpus[2] / max(cpus[0], 1e-3):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
