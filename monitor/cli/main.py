"""Command line: verbs -> exit codes. `monitor --help` lists them.

Exit codes: 0 ok; 1 runtime failure (unusable store, unreachable article);
2 bad config or usage.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from monitor.cli import common, explain, feeds, outbox, stories
from monitor.cli.common import load, make_fetcher, open_pipeline
from monitor.errors import ConfigError, ExtractError, FetchError, MonitorError, StoreError
from monitor.service import logs

log = logging.getLogger(__name__)


def cmd_check(args: argparse.Namespace) -> int:
    config = load(args)
    if config.notify.templates_dir:  # compile them now: a template error is a config error
        from monitor.delivery.templates import Templates

        Templates(config.path.parent / config.notify.templates_dir)
    print(f"config OK: {config.path}")
    print(f"storage: {_safe_url(config.storage_url)}")
    print(f"feeds: {len(config.feeds)}")
    for feed in config.feeds:
        every = f"{config.interval(feed):.0f}s" + (
            f" to {config.max_interval(feed):.0f}s, adaptive" if feed.min_interval else ""
        )
        print(f"  - {feed.name}: {feed.url} every {every}")
    print(f"channels: {', '.join(config.channels) or 'none'}")
    print(f"topics: {len(config.topics)}")
    for topic in config.topics:
        terms = sum(len(g) for _, g in topic.rule().groups())
        print(f"  - {topic.id} ({topic.name}): {terms} terms -> {', '.join(topic.notify)}")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy knows: show the scheme only
        return url.split("://", 1)[0] + "://…"


def cmd_once(args: argparse.Namespace) -> int:
    config = load(args)
    store, fetcher, pipeline = open_pipeline(config)
    try:
        with ThreadPoolExecutor(max_workers=min(8, len(config.feeds))) as pool:
            reports = list(pool.map(lambda f: pipeline.poll_feed(f, force=True), config.feeds))
        delivery = pipeline.deliver(ignore_backoff=True)
    finally:
        fetcher.close()
        store.close()
    for r in reports:
        status = ("ok" + (f" (warning: {r.warning})" if r.warning else "")) if r.ok else f"FAILED: {r.error}"
        print(f"{r.feed}: {status} items={r.items} new={r.new} matched={r.matched}")
    print(f"alerts: sent={delivery.sent} retrying={delivery.failed} dead={delivery.dead}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.service import daemon

    config = load(args)
    store, fetcher, pipeline = open_pipeline(config)
    try:
        code = daemon.run(pipeline, load=lambda: load(args), make_fetcher=make_fetcher)
    finally:
        fetcher.close()
        store.close()
    if code == daemon.EXIT_CUT_OFF:  # worker threads are still in a request: don't wait for them
        logging.shutdown()
        os._exit(code)
    return code


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.cli.status import status

    return status(load(args))


def cmd_test_alert(args: argparse.Namespace) -> int:
    from monitor.delivery import notify
    from monitor.delivery.render import render_test_message
    from monitor.models import channel_kind

    config = load(args)
    urls = config.channels.get(args.channel)
    if urls is None:
        print(f"unknown channel {args.channel!r} (channels: {', '.join(config.channels) or 'none'})", file=sys.stderr)
        return 2
    notify.configure(config.notify.telegram_api_url)
    kind = channel_kind(urls)
    result = notify.send(args.channel, list(urls), render_test_message(kind), kind=kind)
    if result.ok:
        print(f"test alert sent to {args.channel}")
        return 0
    print(f"test alert to {args.channel} failed: {result.error}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description="Watch Arabic news feeds and alert on topics.")
    parser.add_argument(
        "--config",
        default=os.environ.get("MONITOR_CONFIG", "config.yaml"),
        help="path to config.yaml (default: $MONITOR_CONFIG or ./config.yaml)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("MONITOR_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the daemon until SIGTERM/SIGINT").set_defaults(func=cmd_run)
    sub.add_parser("once", help="poll every feed once, deliver alerts, exit").set_defaults(func=cmd_once)
    sub.add_parser("check", help="validate the config and print a summary").set_defaults(func=cmd_check)
    p = sub.add_parser("status", help="one-screen summary: feeds, matches today, outbox, last errors")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("test-alert", help="send a test message through one channel")
    p.add_argument("channel")
    p.set_defaults(func=cmd_test_alert)
    for verb in (explain, feeds, outbox, stories):  # verb modules: one `register(sub)` each
        verb.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.log_level)
    with common.safe_terminal():  # feed text never reaches the terminal as control codes
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print("config error:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"store error: {exc}", file=sys.stderr)
        return 1
    except (FetchError, ExtractError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
