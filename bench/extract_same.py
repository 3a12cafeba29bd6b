#!/usr/bin/env python3
"""Same output, less CPU? The per-article pure stages of a checkout, digested and timed.

    python3 bench/extract_same.py [--tree DIR] [--articles N] [--repeat K] [--shared DIR] [--out FILE]

Pages: every HTML page under tests/fixtures, plus N SaudiNewsNet articles built into news pages
exactly as bench/versus_script.py serves them (full corpus from --shared, else ../shared, else
/work/shared; without any, only the fixtures, and it says so). For each page, in the checkout
DIR (default: this one), runs ``monitor.extract.article.extract`` and, on its text, the stages
``monitor once`` runs next: the folded words (``FoldedText.of``), the near-duplicate fingerprint
(shingles and band keys), the story profile and the topic matches (config.yaml + the
labelled-set topics), then ("others") the story echoes, the language guess and the interstitial
check. Prints one sha256 over everything and, per stage, CPU ms per page (best of
K). ``--out FILE`` writes a sha256 per page and stage as JSON: run it on two checkouts and
compare the files (``cmp``) to prove a change leaves every output byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", default=str(HERE), help="the monitor checkout to measure (default: this one)")
    ap.add_argument("--articles", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shared", default=None)
    ap.add_argument("--out", default=None, help="write per-page digests (JSON) here")
    args = ap.parse_args()
    tree = Path(args.tree).resolve()
    # the pages are built by THIS checkout's helpers, so both trees see the same bytes
    sys.path.insert(0, str(HERE / "bench"))
    import versus_script as vs

    shared = vs.shared_dir(args.shared)
    pages: list[tuple[str, str | None, str | bytes]] = [
        (str(p.relative_to(HERE / "tests" / "fixtures")), None, p.read_bytes())
        for p in sorted((HERE / "tests" / "fixtures").rglob("*.html"))
    ]
    if shared is None:
        print("NOTE: no shared corpus found: fixture pages only.")
    else:
        arts, _ = vs.load_articles(args.articles, shared)
        pages += [(f"corpus {i}", f"http://127.0.0.1/a/{i}.html", h) for i, h in enumerate(vs.build_pages(arts))]
    topics = vs.load_topics()
    for name in [m for m in sys.modules if m == "monitor" or m.startswith("monitor.") or m == "tests"]:
        del sys.modules[name]
    sys.path.insert(0, str(tree))
    import monitor
    from monitor.config.load import parse_config
    from monitor.dedup import neardup, stories
    from monitor.errors import ExtractError
    from monitor.extract.article import extract
    from monitor.extract.interstitial import detect
    from monitor.fetch.encoding import decode_html
    from monitor.matching.matcher import compile_topics
    from monitor.text.folded import FoldedText
    from monitor.text.lang import detect_language

    print(f"monitor from {Path(monitor.__file__).parent}; {len(pages)} pages")
    import yaml

    text = yaml.safe_dump(
        {
            "feeds": [{"name": "f", "url": "http://127.0.0.1/f.xml"}],
            "channels": {"sink": "json://127.0.0.1/x"},
            "topics": topics,
        },
        allow_unicode=True,
    )
    cfg = parse_config(text, need_secrets=False)
    matcher = compile_topics(cfg.rules())

    def run_extract(html: str | bytes, url: str | None) -> object:
        try:
            return extract(html, url)
        except ExtractError as exc:
            return f"ExtractError: {exc}"

    timing: dict[str, float] = {}
    digests: dict[str, dict[str, str]] = {}
    for k in range(args.repeat):
        spent = dict.fromkeys(("extract", "fold", "fingerprint", "profile", "match", "others"), 0.0)
        for name, url, html in pages:
            t0 = time.process_time()
            got = run_extract(html, url)
            t1 = time.process_time()
            spent["extract"] += t1 - t0
            out = {"extract": repr(got)}
            if not isinstance(got, str):
                folded = FoldedText.of(got.title, got.body)
                t2 = time.process_time()
                fp = neardup.fingerprint_words(neardup.article_words(folded))
                t3 = time.process_time()
                prof = stories.profile_folded(folded)
                t4 = time.process_time()
                found = matcher.match(got.title, got.body, folded=folded)
                t5 = time.process_time()
                echoes = stories.echoes_folded(folded)
                language = detect_language(f"{got.title}\n{got.body}")
                page = html if isinstance(html, str) else decode_html(html)
                wall = detect(page, url=url or "", item_title=got.title, page_title=got.title, body=got.body)
                t6 = time.process_time()
                spent["fold"] += t2 - t1
                spent["fingerprint"] += t3 - t2
                spent["profile"] += t4 - t3
                spent["match"] += t5 - t4
                spent["others"] += t6 - t5
                out |= {
                    "folded": repr(folded),
                    "fingerprint": repr((sorted(fp.shingles), fp.bands)),
                    "profile": repr(prof),
                    "match": repr(found),
                    "others": repr((sorted(echoes), language, wall)),
                }
            if k == 0:
                digests[name] = {s: hashlib.sha256(v.encode()).hexdigest() for s, v in out.items()}
        for s, v in spent.items():
            timing[s] = min(timing.get(s, v), v)
    whole = hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()
    print(f"sha256 of every output: {whole}")
    for s, v in timing.items():
        print(f"  {s:12s} {v * 1000 / len(pages):7.3f} ms/page (best of {args.repeat})")
    if args.out:
        Path(args.out).write_text(json.dumps(digests, sort_keys=True, indent=0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
