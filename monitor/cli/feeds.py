"""`monitor feeds`: health listing, OPML import/export, feed autodiscovery."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from monitor.cli import common
from monitor.config.envvars import escape_entry, unescape
from monitor.config.load import Config, Feed
from monitor.config.yamlload import load_yaml
from monitor.dedup.keys import normalize_url
from monitor.errors import ConfigError, FeedParseError
from monitor.redact import redact
from monitor.sources import DEFAULT_KIND

if TYPE_CHECKING:
    from monitor.sources.opml import OpmlFeed
    from monitor.storage import FeedState

_FEEDS_KEY = re.compile(r"^feeds:\s*(?:#.*)?$")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("feeds", help="list feeds with their health; import/export OPML; discover feeds")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per feed")
    fsub = p.add_subparsers(dest="feeds_command")
    p.set_defaults(func=cmd_list)
    q = fsub.add_parser("list", help="every source with its health (the default)")
    q.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON list, one object per feed"
    )
    q.set_defaults(func=cmd_list)
    q = fsub.add_parser("show", help="one feed: health and its items' states (also: `monitor feeds NAME`)")
    q.add_argument("name", nargs="?")
    q.add_argument("-n", "--limit", type=common.count, default=10, help="how many recent items to list (default 10)")
    q.set_defaults(func=cmd_show)
    q = fsub.add_parser("import", help="add the feeds of an OPML file to config.yaml")
    q.add_argument("file", help="an OPML file (a feed reader's export)")
    q.add_argument("--dry-run", action="store_true", help="print what would be added, change nothing")
    q.set_defaults(func=cmd_import)
    q = fsub.add_parser("export", help="print the feed list as OPML")
    q.add_argument("-o", "--output", help="write to this file instead of stdout")
    q.set_defaults(func=cmd_export)
    q = fsub.add_parser("discover", help="find the feeds a site's home page announces")
    q.add_argument("url", help="a site's home page or section URL")
    q.set_defaults(func=cmd_discover)
    # `monitor feeds NAME` is `monitor feeds show NAME`: any other word is taken as a feed name.
    fsub.choices = fsub._name_parser_map = _FeedNames(fsub.choices)  # after every add_parser


class _FeedNames(dict[str, argparse.ArgumentParser]):
    """Subcommand table that takes an unknown word as a feed name for `show`."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and not key.startswith("-")

    def __missing__(self, key: str) -> argparse.ArgumentParser:
        return dict.__getitem__(self, "show")


def cmd_list(args: argparse.Namespace) -> int:
    from monitor.storage import Store

    config = common.load(args)
    store = Store(config.storage_url)
    try:
        states = {s.name: s for s in store.list_feeds()}
    finally:
        store.close()
    now = datetime.now(UTC)
    if getattr(args, "json", False):
        rows = []
        for feed in config.feeds:
            s = states.get(feed.name)
            rows.append(
                {
                    "name": feed.name,
                    "kind": feed.kind,
                    "url": feed.url,
                    "polled": s is not None,
                    "failures": s.consecutive_failures if s else 0,
                    "flagged_at": s.flagged_at if s else None,
                    "failing_since": s.failing_since if s else None,
                    "last_success_at": s.last_success_at if s else None,
                    "items_seen": s.items_seen if s else 0,
                    "next_poll_at": s.next_poll_at if s else None,
                    "last_error": s.last_error if s else None,
                    "last_warning": s.last_warning if s else None,
                    "untrusted_validators": s.untrusted.split() if s and s.untrusted else [],
                    "untrusted_reason": s.untrusted_reason if s else None,
                    "last_full_fetch_at": s.full_fetch_at if s else None,
                }
            )
        common.print_json(rows)
        return 0
    for feed in config.feeds:
        _print_health(config, feed, states.get(feed.name), now)
    return 0


def _print_health(config: Config, feed: Feed, s: FeedState | None, now: datetime) -> None:
    print(f"{feed.name} [{feed.kind}] {feed.url}")
    if s is None:
        print("  status: never polled")
        return
    status = (
        "ok"
        if not s.consecutive_failures
        else f"failing ({s.consecutive_failures} in a row"
        + (f", since {common.when(s.failing_since, now)})" if s.failing_since else ")")
    )
    if s.flagged_at is not None:
        status = f"FLAGGED: {status} (flagged {common.when(s.flagged_at, now)})"
    upcoming = s.next_poll_at or (
        s.last_polled_at + timedelta(seconds=config.interval(feed)) if s.last_polled_at else None
    )
    print(f"  status: {status}")
    print(
        f"  last success: {common.when(s.last_success_at, now)}   items seen: {s.items_seen}   "
        f"next poll: {common.when(upcoming, now) if upcoming and upcoming > now else 'due'}"
    )
    if s.last_error:
        print(f"  last error ({common.when(s.last_error_at, now)}): {s.last_error}")
    if s.last_warning:
        print(f"  warning: {s.last_warning}")
    if s.untrusted:
        print(
            f"  conditional GET: {' and '.join(s.untrusted.split())} not sent (the server lied "
            f"{common.when(s.untrusted_at, now)}: {s.untrusted_reason})"
        )


def cmd_show(args: argparse.Namespace) -> int:
    """One feed's health, its items per ledger state, its open (pending, failed) and latest items."""
    from monitor.storage import Store

    config = common.load(args)
    name = args.name or args.feeds_command
    feed = next((f for f in config.feeds if f.name == name), None)
    if feed is None:
        print(f"no feed named {name!r} in {config.path} (see `monitor feeds list`)", file=sys.stderr)
        return 2
    store = Store(config.storage_url)
    try:
        state = store.feed_state(feed.name)
        counts = store.item_counts(feed.name)
        open_rows = store.feed_items(feed.name, limit=args.limit, open_only=True)
        latest = store.feed_items(feed.name, limit=args.limit)
        outcomes = store.alert_outcomes([r.article_id for r in open_rows + latest if r.article_id is not None])
    finally:
        store.close()
    now = datetime.now(UTC)
    _print_health(config, feed, state, now)
    print("  items: " + ", ".join(f"{state} {n}" for state, n in counts.items()))
    for title, rows in (("open items (pending, failed)", open_rows), ("latest items", latest)):
        if rows:
            print(f"  {title}:")
            for row in rows:
                print("    " + common.format_item(row, now, outcomes))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    config = common.load(args)
    from monitor.sources.opml import OpmlFeed, build_opml  # lxml: this verb only

    text = build_opml([OpmlFeed(f.name, f.url, f.kind, f.links, f.link_pattern) for f in config.feeds])
    if args.output:  # a feed list is made to be shared: `${VAR}` values and API keys are masked in it too
        Path(args.output).write_text(redact(text, config.secrets), encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def new_feeds(config: Config, found: list[OpmlFeed]) -> tuple[list[dict[str, Any]], list[tuple[OpmlFeed, str]]]:
    """OPML entries to add (not in the config by normalized URL, valid, names made unique),
    and the skipped ones with the reason: already in the config, twice in the file, or not
    a valid feed. One bad entry never stops the others (pure)."""
    known = {normalize_url(f.url): f.name for f in config.feeds}
    names = {f.name for f in config.feeds}
    out: list[dict[str, Any]] = []
    skipped: list[tuple[OpmlFeed, str]] = []
    in_file: set[str] = set()
    for f in found:
        key = normalize_url(f.url)
        if key in known:
            skipped.append((f, f"already in config as {known[key]!r}"))
            continue
        if key in in_file:
            skipped.append((f, "twice in this OPML file"))
            continue
        name, n = f.name, 2
        while name in names:
            name, n = f"{f.name} ({n})", n + 1
        entry: dict[str, Any] = {"name": name, "url": f.url}
        if f.kind != DEFAULT_KIND:
            entry["kind"] = f.kind
        for k, value in (("links", f.links), ("link_pattern", f.link_pattern)):
            if value:
                entry[k] = value
        try:
            Feed.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "entry"
            skipped.append((f, f"not a valid feed: {where}: {str(err['msg']).removeprefix('Value error, ')}"))
            continue
        in_file.add(key)
        names.add(name)
        out.append(entry)
    return out, skipped


def _flow_feeds_line(text: str) -> int | None:
    """The line of a flow-style `feeds: [...]` list (which imports cannot add to), or None."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "feeds" and isinstance(value, yaml.SequenceNode) and value.flow_style:
                return int(key.start_mark.line) + 1
    return None


def insert_feeds(text: str, entries: list[dict[str, str]]) -> str:
    """Append entries to the block-style `feeds:` list of a config's text, keeping comments."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _FEEDS_KEY.match(line)), None)
    if start is None:
        raise ConfigError(
            "config.yaml has no block-style `feeds:` list (a line `feeds:` followed by `- name: ...` items) to add to"
        )
    end, indent = start + 1, None
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not (line[0].isspace() or line.startswith("-")):
            break
        if indent is None:
            indent = line[: len(line) - len(line.lstrip())]
        end = i + 1
    indent = indent if indent is not None else "  "
    block = yaml.safe_dump(
        [escape_entry(e) for e in entries], allow_unicode=True, default_flow_style=False, sort_keys=False, width=1000
    )
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines[end:end] = [indent + line + "\n" for line in block.splitlines()]
    return "".join(lines)


def cmd_import(args: argparse.Namespace) -> int:
    from monitor.sources.opml import read_opml  # lxml: this verb only

    config = common.load(args)
    try:
        found, warnings = read_opml(Path(args.file).read_bytes())
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except FeedParseError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    refused = [w.removeprefix("skipped outline ") for w in warnings if w.startswith("skipped outline ")]
    for warning in warnings:
        if not warning.startswith("skipped outline "):
            print(f"{args.file}: warning: {warning}", file=sys.stderr)
    entries, skipped = new_feeds(config, found)
    path = Path(args.config)
    updated = None
    if entries:  # edit first, print after: never "added" for feeds that could not be added
        text = path.read_text(encoding="utf-8")
        line = _flow_feeds_line(text)
        if line is not None:
            raise ConfigError(
                f"{path}:{line}: `feeds:` is written in flow style ([...]); rewrite it as a block list "
                "(one `- name: ...` item per line) and import again"
            )
        updated = insert_feeds(text, entries)
        names = [unescape(str(f.get("name"))) for f in (load_yaml(updated, path) or {}).get("feeds", [])]
        if names != [f.name for f in config.feeds] + [e["name"] for e in entries]:
            raise ConfigError(f"{path}: could not add the feeds without disturbing the file; add them by hand")
    for e in entries:
        print(f"{'would add' if args.dry_run else 'added'}: {e['name']}: {e['url']}")
    for f, reason in skipped:
        print(f"{'would skip' if args.dry_run else 'skipped'}: {f.name}: {f.url} ({reason})")
    for why in refused:  # outlines read_opml refused (unsafe URL, no URL): every skip listed
        print(f"{'would skip' if args.dry_run else 'skipped'}: {why}")
    n_skipped, n_found = len(skipped) + len(refused), len(found) + len(refused)
    print(f"{len(entries)} {'to add' if args.dry_run else 'added'}, {n_skipped} skipped of {n_found} in {args.file}")
    invalid = any(reason.startswith("not a valid feed") for _, reason in skipped)
    if updated is None or args.dry_run:
        return 1 if invalid else 0
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as out:  # replace atomically: never a half-written config
        out.write(updated)
    os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, path)
    return 1 if invalid else 0


def cmd_discover(args: argparse.Namespace) -> int:
    from monitor.fetch.client import Fetcher
    from monitor.sources.discover import discover_feeds
    from monitor.sources.rss import parse_feed_result

    config = common.load(args)
    fetcher = Fetcher.from_config(config)
    try:
        page = fetcher.get(fetcher.unwrap(args.url) or args.url)  # soft redirects are followed too
    finally:
        fetcher.close()
    try:
        parse_feed_result("discover", page.content, page.url, page.content_type)
        print(f"{page.url}  (this URL is itself a feed)")
        return 0
    except FeedParseError:
        pass
    found = discover_feeds(page.content, page.url, page.content_type)
    if not found:
        print(f"no feeds announced on {page.url}", file=sys.stderr)
        return 1
    for f in found:
        print(f"{f.url}  [{f.type}]  {f.title}".rstrip())
    return 0
