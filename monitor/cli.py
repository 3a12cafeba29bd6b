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
from pathlib import Path

from . import logs
from .config import Config, load_config
from .errors import ConfigError, ExtractError, FetchError, MonitorError, StoreError

log = logging.getLogger(__name__)


def _load(args: argparse.Namespace) -> Config:
    from .credentials import environment
    config = load_config(args.config, env=environment())   # env vars plus systemd credentials
    storage = os.environ.get("MONITOR_STORAGE")
    if storage:   # e.g. set by the systemd unit to a path in StateDirectory
        from dataclasses import replace
        config = replace(config, storage_url=storage)
    logs.add_secrets(config.secrets)
    return config


def _open(config: Config):  # -> (Store, Fetcher, Pipeline)
    from .pipeline import Pipeline
    from .storage import Store
    store = Store(config.storage_url)
    fetcher = _fetcher(config)
    return store, fetcher, Pipeline(config, store, fetcher)


def _fetcher(config: Config):  # -> Fetcher
    from .fetch import Fetcher
    return Fetcher.from_config(config)


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args)
    if config.notify.templates_dir:   # compile them now: a template error is a config error
        from .templates import Templates
        Templates(config.path.parent / config.notify.templates_dir)
    print(f"config OK: {config.path}")
    print(f"storage: {_safe_url(config.storage_url)}")
    print(f"feeds: {len(config.feeds)}")
    for feed in config.feeds:
        every = f"{config.interval(feed):.0f}s" + (f" to {config.max_interval(feed):.0f}s, adaptive"
                                                   if feed.min_interval else "")
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
    except Exception:   # not a URL SQLAlchemy knows: show the scheme only
        return url.split("://", 1)[0] + "://…"


def cmd_once(args: argparse.Namespace) -> int:
    config = _load(args)
    store, fetcher, pipeline = _open(config)
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
    from . import daemon
    config = _load(args)
    store, fetcher, pipeline = _open(config)
    try:
        code = daemon.run(pipeline, load=lambda: _load(args), make_fetcher=_fetcher)
    finally:
        fetcher.close()
        store.close()
    if code == daemon.EXIT_CUT_OFF:   # worker threads are still in a request: don't wait for them
        logging.shutdown()
        os._exit(code)
    return code


def cmd_status(args: argparse.Namespace) -> int:
    from .cli_status import status
    return status(_load(args))


def cmd_explain(args: argparse.Namespace) -> int:
    from .extract import extract
    from .fetch import Fetcher
    from .cli_backtest import format_result
    from .match import compile_topics
    from .text.lang import detect_language
    config = _load(args)
    target = args.target
    if Path(target).exists():
        content, url = Path(target).read_bytes(), None
    else:
        fetcher = Fetcher.from_config(config)
        try:
            page = fetcher.get(target)
        finally:
            fetcher.close()
        content, url = page.content, page.url
    from .encoding import decode_html
    text = extract(decode_html(content, page.content_type if url else ""), url)
    language = detect_language(f"{text.title}\n{text.body}")
    print(f"title: {text.title}")
    print(f"body: {len(text.body)} characters, {len(text.body.split())} words, language {language}")
    for result in compile_topics(config.rules()).evaluate(text.title, text.body, feed=args.feed,
                                                          language=language):
        print()
        print("\n".join(format_result(result)))
    return 0


def cmd_test_alert(args: argparse.Namespace) -> int:
    from . import notify
    from .render import render_test_message
    config = _load(args)
    urls = config.channels.get(args.channel)
    if urls is None:
        print(f"unknown channel {args.channel!r} (channels: {', '.join(config.channels) or 'none'})",
              file=sys.stderr)
        return 2
    notify.configure(config.notify.telegram_api_url)
    kind = notify.channel_kind(list(urls))
    result = notify.send(args.channel, list(urls), render_test_message(kind), kind=kind)
    if result.ok:
        print(f"test alert sent to {args.channel}")
        return 0
    print(f"test alert to {args.channel} failed: {result.error}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description="Watch Arabic news feeds and alert on topics.")
    parser.add_argument("--config", default=os.environ.get("MONITOR_CONFIG", "config.yaml"),
                        help="path to config.yaml (default: $MONITOR_CONFIG or ./config.yaml)")
    parser.add_argument("--log-level", default=os.environ.get("MONITOR_LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the daemon until SIGTERM/SIGINT").set_defaults(func=cmd_run)
    sub.add_parser("once", help="poll every feed once, deliver alerts, exit").set_defaults(func=cmd_once)
    sub.add_parser("check", help="validate the config and print a summary").set_defaults(func=cmd_check)
    p = sub.add_parser("explain", help="show how each topic matches one article (URL or HTML file)")
    p.add_argument("target")
    p.add_argument("--feed", help="feed name, for topics limited to some feeds")
    p.set_defaults(func=cmd_explain)
    from . import cli_feeds
    cli_feeds.add_parser(sub)
    from .cli_backtest import add_parser as add_backtest
    add_backtest(sub, lambda f: lambda args: f(args, _load(args)))
    p = sub.add_parser("status", help="one-screen summary: feeds, matches today, outbox, last errors")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("test-alert", help="send a test message through one channel")
    p.add_argument("channel")
    p.set_defaults(func=cmd_test_alert)
    from . import cli_outbox
    cli_outbox.register(sub)
    from .cli_stories import add_parser as add_stories
    add_stories(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.log_level)
    try:
        return args.func(args)
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
