#!/usr/bin/env python3
"""CPU one article page (check_page + extract) and one feed (parse_feed_result) cost at the budgets (issue 14).

    python3 bench/cpu_at_budget.py [--only SHAPE]

There is no CPU timer per page or per feed (lxml and trafilatura run in C and in one thread,
and cannot be stopped from outside without a subprocess); the byte, item and element budgets
bound the work instead. This prints, per page shape, CPU seconds at 1/4, 1/2, 1, 2 and 4 times
`fetch.max_elements` (40,000) start tags: past the budget the page is cut, so the last three
rows should cost about the same, and that cost is the bound README "Fetching" states. Then a
feed at `fetch.max_items` (1000) items and at 4x that, with descriptions filling up to
`fetch.max_bytes` (10 MiB), and 1000 items whose descriptions are all markup at 1-10 MiB
(feedparser sanitizes each tag in Python: linear, ~0.9 s per MiB). Each run is a fresh interpreter; ASCII markup only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ELEMENTS = 40_000

SHAPES = {  # one repeated unit per shape: (markup, start tags per unit)
    "flat_p": ("<p>", 1),
    "prose_p": ("<p>" + "word " * 12 + "</p>", 1),
    "link_list": ("<li><a href='/a/1.html'>headline words here</a></li>", 2),
    "table": ("<tr><td>cell</td><td>cell</td></tr>", 3),
    "inline_soup": ("<span><b><i>x</i></b></span>", 3),
    "nested_div": ("<div>" * 50 + "<p>text</p>" + "</div>" * 50, 51),
}

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
kind, arg = sys.argv[2], json.loads(sys.argv[3])
from monitor.extract.article import extract
from monitor.extract.htmlcheck import check_page
from monitor.fetch.budget import Budget
from monitor.sources.rss import parse_feed_result
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if kind == "page":
    unit, count = arg
    data = "<html><head><title>t</title></head><body><article>" + unit * count + "</article></body></html>"
else:
    items, desc = arg[:2]
    text = "<![CDATA[" + "<p>x" * (desc // 4) + "]]>" if kind == "feed_html" else "d" * desc
    item = "<item><title>t%d</title><link>http://127.0.0.1/a%d.html</link><description>" + text + "</description></item>"
    data = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            + "".join(item % (i, i) for i in range(items)) + "</channel></rss>")
c0 = time.process_time()
if kind == "page":
    checked = check_page(data, "http://x/", Budget())
    try:
        extract(checked.text, "http://x/")
        out = "extracted"
    except Exception as exc:
        out = type(exc).__name__
    out += "; " + (checked.warning[:40] or "whole page")
else:
    r = parse_feed_result("f", data.encode(), "http://127.0.0.1/", budget=Budget())
    out = f"{len(r.items)} items" + (f"; {r.warnings[0][:40]}" if r.warnings else "")
cpu = time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"chars": len(data), "cpu": cpu, "rss_mb": (peak - base) / 1024, "out": out}))
"""


def run(kind: str, arg: object) -> dict[str, object]:
    p = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), kind, json.dumps(arg)], capture_output=True, text=True, check=False
    )
    try:
        return dict(json.loads(p.stdout.strip().splitlines()[-1]))
    except (IndexError, ValueError):
        return {"chars": 0, "cpu": 0.0, "rss_mb": 0.0, "out": "crashed: " + p.stderr[-120:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--only", default="", help="one page shape, or 'feed'")
    args = ap.parse_args()
    print(f"{'input':12} {'elements':>9} {'chars':>9} {'cpu s':>7} {'rss MB':>7}  outcome")
    for name, (unit, per) in SHAPES.items():
        if args.only and args.only != name:
            continue
        for mult in (0.25, 0.5, 1, 2, 4):
            count = max(1, int(ELEMENTS * mult / per))
            r = run("page", [unit, count])
            print(
                f"{name:12} {count * per:>9} {int(r['chars']):>9} {float(r['cpu']):7.2f} "  # type: ignore[call-overload]
                f"{float(r['rss_mb']):7.1f}  {r['out']}"  # type: ignore[arg-type]
            )
    if not args.only or args.only == "feed":
        for items in (250, 500, 1000, 2000, 4000):
            desc = (10 * 1024 * 1024) // 4000 - 100  # 4000 items just under max_bytes
            r = run("feed", [items, desc])
            print(
                f"{'feed':12} {items:>9} {int(r['chars']):>9} {float(r['cpu']):7.2f} "  # type: ignore[call-overload]
                f"{float(r['rss_mb']):7.1f}  {r['out']}"  # type: ignore[arg-type]
            )
    if not args.only or args.only == "feed_html":  # descriptions all markup: feedparser's sanitizer per tag
        for mib in (1, 2, 4, 10):
            desc = mib * 1024 * 1024 // 1000 - 120  # 1000 items (max_items) filling `mib` MiB
            r = run("feed_html", [1000, desc])
            print(
                f"{'feed_html':12} {1000:>9} {int(r['chars']):>9} {float(r['cpu']):7.2f} "  # type: ignore[call-overload]
                f"{float(r['rss_mb']):7.1f}  {r['out']}"  # type: ignore[arg-type]
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
