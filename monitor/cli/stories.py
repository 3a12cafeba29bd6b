"""`monitor stories [--topic T]`: recent stories with their articles, outlets and links."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.cli import common
from monitor.config.values import parse_duration
from monitor.dedup.keys import clean_link

if TYPE_CHECKING:  # storage (SQLAlchemy) is imported only when a command runs
    from monitor.storage.stories import Story


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stories", help="list recent stories with their articles and outlets")
    p.add_argument("--topic", help="only stories with an article that matched this topic id")
    p.add_argument("--since", default="7d", help="stories with an article this recent (default 7d)")
    p.add_argument("--limit", type=common.count, default=50, help="at most this many stories (default 50)")
    p.add_argument(
        "--min-articles",
        type=common.count,
        default=1,
        metavar="N",
        help="only stories with at least N articles (default 1)",
    )
    p.add_argument("--all", action="store_true", help="also stories no topic matched (default: only matched stories)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per story")
    p.set_defaults(func=cmd_stories)


def cmd_stories(args: argparse.Namespace) -> int:
    from monitor.storage import Store

    config = common.load(args)
    if args.topic is not None and args.topic not in {t.id for t in config.topics}:
        print(f"stories: {common.unknown_name('topic', args.topic, [t.id for t in config.topics])}", file=sys.stderr)
        return 2
    try:
        since = datetime.now(UTC) - timedelta(seconds=parse_duration(args.since))
    except ValueError as exc:
        print(f"--since: {exc}")
        return 2
    store = Store(config.storage_url)
    try:
        found = store.stories(
            since, topic=args.topic, limit=args.limit, min_articles=args.min_articles, matched_only=not args.all
        )
    finally:
        store.close()
    if args.json:
        common.print_json([story_row(s) for s in found])
        return 0
    if not found:
        print(
            "no stories"
            + (f" for topic {args.topic}" if args.topic else "")
            + ("" if args.all else " matched by a topic (`--all` lists every story)")
        )
        return 0
    for story in found:
        print(format_story(story))
    return 0


def story_row(story: Story) -> dict[str, Any]:
    """A story as a JSON-ready dict (pure)."""
    return {
        "id": story.id,
        "title": story.title,
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "alert_sent": story.alert_sent,
        "outlets": list(story.outlets),
        "topics": list(story.topics),
        "articles": [
            {
                "id": a.article_id,
                "title": a.title,
                "url": clean_link(a.url),
                "outlet": a.outlet,
                "copy_of": a.copy_of,
                "jaccard": a.jaccard,
                "after_alert": story.after_alert(a),
            }
            for a in story.articles
        ],
    }


def format_story(story: Story) -> str:
    """A story as a few lines of text (pure): a head line, the title, then one line per article
    with its outlet and link (tracking parameters dropped); an article that joined after the
    story's first alert was sent (a late copy the alert does not list) is marked so."""
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
        late = " (after the alert)" if story.after_alert(a) else ""
        lines.append(f"  - #{a.article_id} [{a.outlet}]{how}{late} {a.title} {clean_link(a.url)}".rstrip())
    return "\n".join(lines) + "\n"
