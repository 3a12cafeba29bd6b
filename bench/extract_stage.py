#!/usr/bin/env python3
"""The extraction stage of `monitor once`, per page, in this checkout and another, in turn.

    python3 bench/extract_stage.py [--base DIR] [--articles N] [--repeat K] [--rounds R] [--shared DIR]

Pages: N SaudiNewsNet articles built into news pages exactly as bench/versus_script.py serves them
(full corpus from --shared, else ../shared, else /work/shared; without any, the
tests/fixtures/saudinewsnet excerpts, and it says so). For each page, as the pipeline does
(monitor/pipeline.py ``_article``): ``decode_html`` of its UTF-8 bytes, ``check_page``,
``extract``, then the interstitial ``detect`` on the extracted text. One child process per tree
and round, the trees alternating (this checkout, then --base, R times); each child makes K warm
passes over the pages and reports, per stage, its best pass in CPU ms per page (``process_time``).
Printed: per tree and stage, the median over the rounds. Only timings: compare outputs with
bench/extract_same.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
STAGES = ("decode_html", "check_page", "extract", "detect", "total")


def child(tree: str, pages_file: str, repeat: int) -> int:
    """Time the stages over the pages in ``pages_file`` (JSON list of HTML strings) in ``tree``."""
    sys.path.insert(0, tree)
    from monitor.extract.article import extract
    from monitor.extract.htmlcheck import check_page
    from monitor.extract.interstitial import detect
    from monitor.fetch.encoding import decode_html

    pages = [p.encode("utf-8") for p in json.loads(Path(pages_file).read_text())]
    best = dict.fromkeys(STAGES, float("inf"))
    for _ in range(repeat):
        spent = dict.fromkeys(STAGES, 0.0)
        for i, data in enumerate(pages):
            url = f"http://127.0.0.1/a/{i}.html"
            t0 = time.process_time()
            text = decode_html(data, "text/html; charset=utf-8")
            t1 = time.process_time()
            checked = check_page(text, url)
            t2 = time.process_time()
            got = extract(checked.text, url)
            t3 = time.process_time()
            detect(checked.text, url=url, item_title=got.title, page_title=got.title, body=got.body)
            t4 = time.process_time()
            for stage, dt in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
                spent[stage] += dt
        best = {s: min(best[s], spent[s] * 1000 / len(pages)) for s in STAGES}
    print(json.dumps(best))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default=None, help="another monitor checkout to time in turn with this one")
    ap.add_argument("--articles", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3, help="passes per child; its best counts")
    ap.add_argument("--rounds", type=int, default=3, help="children per tree, alternating; the median is printed")
    ap.add_argument("--shared", default=None)
    ap.add_argument("--child", nargs=2, metavar=("TREE", "PAGES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], args.child[1], args.repeat)
    sys.path.insert(0, str(HERE / "bench"))
    import versus_script as vs

    arts, source = vs.load_articles(args.articles, vs.shared_dir(args.shared))
    pages_file = Path(f"/tmp/extract_stage_{time.time_ns()}.json")
    pages_file.write_text(json.dumps(vs.build_pages(arts)))
    trees = [("ours", str(HERE))] + ([("base", str(Path(args.base).resolve()))] if args.base else [])
    print(f"{len(arts)} pages from {source}; trees: {', '.join(f'{n} {t}' for n, t in trees)}")
    got: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    try:
        for _ in range(args.rounds):
            for name, tree in trees:
                cmd = [sys.executable, __file__, "--repeat", str(args.repeat), "--child", tree, str(pages_file)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd="/")
                got[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        pages_file.unlink(missing_ok=True)
    print(f"CPU ms per page, median over {args.rounds} rounds of the best of {args.repeat} passes:")
    print("  " + " ".join(f"{s:>12s}" for s in ("tree", *STAGES)))
    for name, _ in trees:
        row = [statistics.median(r[s] for r in got[name]) for s in STAGES]
        print("  " + f"{name:>12s}" + " ".join(f"{v:12.3f}" for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
