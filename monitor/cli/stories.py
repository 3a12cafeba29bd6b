"""`monitor stories [--topic T]`: recent stories with their articles and outlets."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.cli import common
from monitor.config.values import parse_duration

if TYPE_CHECKING:  # storage (SQLAlchemy) is imported only when a command runs
    from monitor.storage.stories import Story


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stories", help="list recent stories with their articles and outlets")
    p.add_argument("--topic", help="only stories with an article that matched this topic id")
    p.add_argument("--since", default="7d", help="stories with an article this recent (default 7d)")
    p.add_argument("--limit", type=int, default=50, help="at most this many stories (default 50)")
    p.set_defaults(func=cmd_stories)


def cmd_stories(args: argparse.Namespace) -> int:
    from monitor.storage import Store

    config = common.load(args)
    if args.topic is not None and args.topic not in {t.id for t in config.topics}:
        print(f"unknown topic {args.topic!r} (topics: {', '.join(t.id for t in config.topics)})")
        return 2
    try:
        since = datetime.now(UTC) - timedelta(seconds=parse_duration(args.since))
    except ValueError as exc:
        print(f"--since: {exc}")
        return 2
    store = Store(config.storage_url)
    try:
        found = store.stories(since, topic=args.topic, limit=args.limit)
    finally:
        store.close()
    if not found:
        print("no stories" + (f" for topic {args.topic}" if args.topic else ""))
        return 0
    for story in found:
        print(format_story(story))
    return 0


def format_story(story: Story) -> str:
    """A story as a few lines of text (pure)."""
    n = len(story.articles)
    head = (
        f"story {story.id}: {n} article{'s' * (n != 1)}, outlets: {', '.join(story.outlets)}"
        f" | {story.first_seen:%Y-%m-%d %H:%M} .. {story.last_seen:%Y-%m-%d %H:%M} UTC"
    )
    if story.topics:
        head += f" | topics: {', '.join(story.topics)}"
    lines = [head, f"  {story.title}"]
    for a in story.articles:
        how = f" (copy of {a.copy_of}, jaccard {a.jaccard:.2f})" if a.copy_of else ""
        lines.append(f"  - #{a.article_id} [{a.outlet}]{how} {a.title} {a.url}".rstrip())
    return "\n".join(lines) + "\n"
