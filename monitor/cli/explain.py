"""`monitor backtest TOPIC`: run a topic, edited or new, over the stored articles.

Nothing is sent and nothing is written: the stored articles (kept for
`defaults.retention`) are matched with the candidate rule and with the rule
in config.yaml, and the differences are listed, so a watchlist can be tuned
safely. Also holds the result formatting shared with `monitor explain`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from monitor.cli import common
from monitor.config.load import Config, rule_from_dict
from monitor.config.values import parse_duration
from monitor.errors import ConfigError
from monitor.matching.relevance import hit_value
from monitor.matching.rules import TopicRule
from monitor.models import TopicResult


def near_miss(result: TopicResult) -> str | None:
    """Why an unmatched topic came close, or None (issue 15: tune without guessing).

    Two kinds: the boolean rule holds but the score is under min_score (the
    weakest group is named), or exactly one required group has no hit while
    the others do (that group is named).
    """
    if result.matched:
        return None
    if result.reason.startswith("score "):
        weak = dict(result.groups).get(result.weakest, 0.0)
        held = f"score {result.score:g} < {result.threshold:g}"
        return f"near miss: rule holds, {held}; weakest group {result.weakest} {weak:g}"
    missing = result.reason.removeprefix("no term of ")
    if missing != result.reason and "," not in missing and result.groups:
        return f"near miss: only group {missing} has no term"
    return None


def format_result(result: TopicResult) -> list[str]:
    """Lines that show why a topic matched an article or not (for explain)."""
    verdict = "MATCH" if result.matched else "no match"
    per_group = ", ".join(f"{g} {s:.3g}" for g, s in result.groups)
    weakest = f"; weakest {result.weakest}" if result.weakest and len(result.groups) > 1 else ""
    lines = [
        f"[{verdict}] {result.topic_id} ({result.topic_name}): {result.reason}",
        f"  score {result.score:g} / min_score {result.threshold:g}"
        + (f"  (groups: {per_group}{weakest})" if per_group else ""),
    ]
    for hit in result.hits:
        shown = hit.term if hit.matched == hit.term else f"{hit.term} -> {hit.matched}"
        tags = ["variant"] if hit.variant else []
        if hit.weight != 1:
            tags.append(f"weight {hit.weight:g}")
        value = "" if hit.group == "none" else f" +{hit_value(hit):g}"
        extra = f" [{', '.join(tags)}]" if tags else ""
        lines.append(f"  {hit.group:10} {shown}  ({hit.field}, word {hit.token}){value}{extra}")
    if result.hits:
        lines.append(f"  snippet: {result.snippet}")
    close = near_miss(result)
    if close:
        lines.insert(2, f"  {close}")
    return lines


def load_candidate(config: Config, topic_id: str, path: str | None) -> TopicRule:
    """The rule to try: topic `topic_id` from `path` (YAML) if given, else from config."""
    if path is None:
        for topic in config.topics:
            if topic.id == topic_id:
                return topic.rule()
        raise ConfigError(
            [f"no topic {topic_id!r} in {config.path} (topics: {', '.join(t.id for t in config.topics)})"]
        )
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([f"{path}: cannot read topic file: {exc}"]) from None
    topics = data.get("topics", [data]) if isinstance(data, dict) else data
    for topic in topics if isinstance(topics, list) else []:
        if isinstance(topic, dict) and topic.get("id") == topic_id:
            return rule_from_dict(topic)
    raise ConfigError([f"{path}: no topic with id {topic_id!r}"])


@dataclass(frozen=True)
class Outcome:
    """One stored article under the candidate and the current rule."""

    article_id: int
    url: str
    title: str
    feed: str
    fetched_at: datetime
    candidate: TopicResult
    current: TopicResult | None  # None: the topic is new (not in config)


def backtest(config: Config, rule: TopicRule, since: datetime, articles: Iterable[Any]) -> list[Outcome]:
    """Match `rule` (and the config's rule of the same id) over stored articles.

    Kept: articles either rule matches, and the candidate's near misses (see `near_miss`).
    """
    from monitor.matching.matcher import compile_topics  # backtest only: not with every verb
    from monitor.text.lang import detect_language

    current_rule = next((t.rule() for t in config.topics if t.id == rule.id), None)
    candidate = compile_topics([rule])
    current = compile_topics([current_rule]) if current_rule else None
    feeds = {f.name: f for f in config.feeds}
    out = []
    for art in articles:
        if not art.body:
            continue  # text pruned after the retention period
        feed = feeds.get(art.feed)
        language = (feed.language if feed else None) or detect_language(f"{art.title}\n{art.body}")
        kw = dict(feed=art.feed, language=language)
        new = candidate.evaluate(art.title, art.body, **kw)[0]
        old = current.evaluate(art.title, art.body, **kw)[0] if current else None
        if new.matched or (old is not None and old.matched) or near_miss(new):
            out.append(Outcome(art.id, art.url, art.title, art.feed, art.fetched_at, new, old))
    return out


def rule_and_window(config: Config, args: argparse.Namespace) -> tuple[TopicRule, datetime | None]:
    """The topic to try (`args.topic`, `args.topic_file`) and the start of `--since` (None,
    with the reason printed, if `--since` is not a duration). Shared by backtest and suggest."""
    rule = load_candidate(config, args.topic, args.topic_file)
    try:
        seconds = parse_duration(args.since)
    except ValueError as exc:
        print(f"--since: {exc}")
        return rule, None
    return rule, datetime.now(UTC) - timedelta(seconds=seconds)


def cmd_backtest(args: argparse.Namespace) -> int:
    config = common.load(args)
    from monitor.storage import Store

    rule, since = rule_and_window(config, args)
    if since is None:
        return 2
    store = Store(config.storage_url)
    try:
        outcomes = backtest(config, rule, since, store.articles_since(since))
    finally:
        store.close()
    source = args.topic_file or str(config.path)
    print(f"backtest {rule.id} from {source} over articles fetched since {since:%Y-%m-%d %H:%M} UTC")
    gained = lost = same = 0
    misses = [o for o in outcomes if not o.candidate.matched and (o.current is None or not o.current.matched)]
    outcomes = [o for o in outcomes if o not in misses]
    for o in outcomes:
        if o.current is None or o.candidate.matched == o.current.matched:
            mark, same = "=", same + 1
        elif o.candidate.matched:
            mark, gained = "+", gained + 1
        else:
            mark, lost = "-", lost + 1
        if not o.candidate.matched and not args.all and mark == "=":
            continue
        old = "" if o.current is None else f" (current {o.current.score:g}/{o.current.threshold:g})"
        print(f"{mark} {o.fetched_at:%Y-%m-%d %H:%M} {o.feed}: {o.title}")
        print(f"    score {o.candidate.score:g}/{o.candidate.threshold:g}{old}  {o.url}")
        if args.verbose:
            for line in format_result(o.candidate)[2:]:
                print(f"   {line}")
    if args.near:
        for o in misses:
            print(f"~ {o.fetched_at:%Y-%m-%d %H:%M} {o.feed}: {o.title}")
            print(f"    {near_miss(o.candidate)}  {o.url}")
    would = sum(o.candidate.matched for o in outcomes)
    if any(o.current is not None for o in outcomes) or rule.id in {t.id for t in config.topics}:
        print(f"would match {would}; against the current rule: +{gained} new, -{lost} dropped, {same} unchanged")
    else:
        print(f"would match {would} (a new topic: nothing to compare)")
    shown = "listed with ~" if args.near else "--near lists them"
    print(f"near misses: {len(misses)} ({shown})")
    print("nothing was sent")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `explain` and `backtest` on the CLI's subparsers."""
    p = sub.add_parser("explain", help="show how each topic matches one article (URL or HTML file)")
    p.add_argument("target", help="an article's http(s) URL, or a saved .html file")
    p.add_argument("--feed", help="feed name, for topics limited to some feeds (must be in config.yaml)")
    p.set_defaults(func=cmd_explain)
    p = sub.add_parser("backtest", help="run a topic (edited or new) over stored articles; sends nothing")
    p.add_argument("topic", help="topic id")
    p.add_argument("--since", default="7d", help="how far back: 90m, 12h, 7d (default 7d)")
    p.add_argument(
        "--topic-file",
        help="YAML file with the edited or new topic (a topic, a list, "
        "or `topics:`); default: the topic in config.yaml",
    )
    p.add_argument("--all", action="store_true", help="also list articles matched by both rules")
    p.add_argument("-v", "--verbose", action="store_true", help="show every hit of each listed article")
    p.add_argument(
        "--near",
        action="store_true",
        help="also list near misses: the rule holds but the score is low, or one group has no term",
    )
    p.set_defaults(func=cmd_backtest)


def _print_ledger(config: Config, url: str) -> None:
    """What the pipeline did with the feed items pointing at `url` (the item ledger)."""
    from monitor.dedup.keys import normalize_url
    from monitor.storage import Store

    store = Store(config.storage_url)
    try:
        rows = store.find_items(normalize_url(url), url)
        refs = {a: store.article_url(a) for r in rows for a in (r.ref_article_id, r.article_id) if a is not None}
        outcomes = store.alert_outcomes([r.article_id for r in rows if r.article_id is not None])
    finally:
        store.close()
    if not rows:
        print(f"ledger: no feed item points at {url}")
        return
    now = datetime.now(UTC)
    for row in rows:
        print(f"ledger: feed {row.feed} item " + common.format_item(row, now, outcomes))
        if row.state == "copy" and row.ref_article_id is not None:
            print(f"  copy of article #{row.ref_article_id} {refs.get(row.ref_article_id) or ''}".rstrip())
        if row.ref_item_id is not None:
            print(f"  see item #{row.ref_item_id}")
        if row.last_error:
            print(f"  last error: {row.last_error}")
    print()


def cmd_explain(args: argparse.Namespace) -> int:
    from monitor.extract.article import extract
    from monitor.fetch.client import Fetcher
    from monitor.matching.matcher import compile_topics
    from monitor.text.lang import detect_language

    config = common.load(args)
    target = args.target
    if args.feed is not None and args.feed not in {f.name for f in config.feeds}:
        print(
            f"explain --feed: {common.unknown_name('feed', args.feed, [f.name for f in config.feeds])}", file=sys.stderr
        )
        return 2
    if "://" in target:
        _print_ledger(config, target)
    if "://" not in target:  # a file
        path = Path(target)
        if path.is_dir():
            print(f"explain: {target} is a directory; give an article's .html file or URL", file=sys.stderr)
            return 2
        if not path.exists():
            print(f"explain: no such file: {target} (give an article's .html file or an http(s) URL)", file=sys.stderr)
            return 2
        if not path.is_file():  # a FIFO, a device (/dev/zero), a socket: never read, never waited on
            print(f"explain: {target} is not a regular file; give an article's .html file or URL", file=sys.stderr)
            return 2
        limit = config.fetch.max_bytes  # the same page budget as a fetched page
        try:
            with path.open("rb") as handle:
                content, url = handle.read(limit + 1), None
        except OSError as exc:
            print(f"explain: cannot read {target}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        if len(content) > limit:
            print(
                f"explain: {target} is larger than fetch.max_bytes ({limit} bytes); not an article page",
                file=sys.stderr,
            )
            return 2
    else:
        fetcher = Fetcher.from_config(config)
        try:
            page = fetcher.get(target)
        finally:
            fetcher.close()
        content, url = page.content, page.url
    from monitor.fetch.encoding import decode_html

    text = extract(decode_html(content, page.content_type if url else ""), url)
    language = detect_language(f"{text.title}\n{text.body}")
    print(f"title: {text.title}")
    print(f"body: {len(text.body)} characters, {len(text.body.split())} words, language {language}")
    for result in compile_topics(config.rules()).evaluate(text.title, text.body, feed=args.feed, language=language):
        print()
        print("\n".join(format_result(result)))
    return 0
