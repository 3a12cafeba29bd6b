"""`monitor suggest TOPIC`: words the topic's matches share that its rule does not list.

Reads the articles stored in the last `--since` (text is kept for
`defaults.retention`), matches the topic over them and prints
monitor.matching.suggest's two lists: co-occurring words, and the spelling
variants of the topic's own terms seen in the corpus. Read-only.
"""

from __future__ import annotations

import argparse

from monitor.cli import common
from monitor.cli.explain import rule_and_window


def cmd_suggest(args: argparse.Namespace) -> int:
    config = common.load(args)
    from monitor.matching.matcher import compile_topics  # imported by this verb, not by every one
    from monitor.matching.suggest import suggest
    from monitor.storage import Store

    rule, since = rule_and_window(config, args)
    if since is None:
        return 2
    matcher = compile_topics([rule])
    store = Store(config.storage_url)
    try:
        triples = [
            (a.title, a.body, bool(matcher.match(a.title, a.body)))
            for a in store.articles_since(since)
            if a.body  # text pruned after the retention period
        ]
    finally:
        store.close()
    found = suggest(rule, triples, top=args.top)
    print(
        f"suggest {rule.id}: {found.matched} matched and {found.others} other articles "
        f"fetched since {since:%Y-%m-%d %H:%M} UTC"
    )
    print("words that occur with its matches and rarely elsewhere (matched / other articles):")
    for s in found.cooccurring:
        print(f"  {s.word}  {s.matched} / {s.others}")
    if not found.cooccurring:
        print("  (none: too few matched articles in the window)")
    print("spelling variants and forms of its terms seen (matched / other articles):")
    for term, seen in found.variants:
        print(f"  {term}: " + ", ".join(f"{s.word} {s.matched}/{s.others}" for s in seen))
    if not found.variants:
        print("  (none)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `suggest` on the CLI's subparsers."""
    p = sub.add_parser("suggest", help="words a topic's matches share that its rule does not list; sends nothing")
    p.add_argument("topic", help="topic id")
    p.add_argument("--since", default="7d", help="how far back: 90m, 12h, 7d (default 7d)")
    p.add_argument("--topic-file", help="YAML file with an edited or new topic (as for backtest)")
    p.add_argument("--top", type=common.count, default=20, help="how many co-occurring words to list (default 20)")
    p.set_defaults(func=cmd_suggest)
