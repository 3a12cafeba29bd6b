# PYTHON_ARGCOMPLETE_OK
"""Command line: verbs -> exit codes. `monitor --help` lists them.

Exit codes: 0 ok; 1 runtime failure (unusable store, unreachable article;
`once`: every source failed); 2 bad config or usage; 130 interrupted (Ctrl-C).
Global options (`--config`, `--log-level`) are accepted before or after the verb.
Output cut short by a closed pipe (`monitor feeds | head`) ends quietly with 0.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from monitor.cli import common, explain, feeds, outbox, stories, suggest
from monitor.cli.common import (
    add_global_options,
    frozen_heap,
    load,
    make_fetcher,
    open_pipeline,
    print_json,
    unknown_name,
)
from monitor.errors import ConfigError, ExtractError, FetchError, MonitorError, StoreError
from monitor.redact import RedactingWriter
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
    if config.http.listen:
        from monitor.service.health import exposure_warning

        warning = exposure_warning(config.http.listen)
        print(f"http: {config.http.listen}" + (f" (warning: {warning})" if warning else ""))
    print(f"channels: {', '.join(config.channels) or 'none'}")
    print(f"topics: {len(config.topics)}")
    for topic in config.topics:
        terms = sum(len(g) for _, g in topic.rule().groups())
        print(f"  - {topic.id} ({topic.name}): {terms} terms -> {', '.join(topic.notify)}")
    for warning in config.warnings:
        print(f"warning: {warning}")
    if config.cluster:
        print(f"warning: {per_node_limits(config.fetch.max_per_host, config.fetch.max_connections)}")
    return 0


def per_node_limits(per_host: int, connections: int) -> str:
    """What `monitor check` says of the fetch limits of a cluster: they hold per node."""
    return (
        f"cluster: fetch.max_per_host ({per_host}) and fetch.max_connections ({connections}) hold per node, "
        f"not for the cluster: N nodes may open N x {per_host} requests at once to one host; to keep a "
        "host's limit, set max_per_host to it divided by the number of nodes (README: Running several nodes)"
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy knows: show the scheme only
        return url.split("://", 1)[0] + "://…"


def cmd_once(args: argparse.Namespace) -> int:
    from monitor.delivery.outbox import ONCE_MAX_WAIT, STRANDED

    config = load(args)
    feeds = config.feeds
    if args.feed:
        known = [f.name for f in config.feeds]
        for name in args.feed:
            if name not in known:
                print(f"once: {unknown_name('feed', name, known)}", file=sys.stderr)
                return 2
        feeds = tuple(f for f in config.feeds if f.name in args.feed)
    if args.dry_run:
        return _dry_run(config, feeds)
    store, fetcher, pipeline = open_pipeline(config)
    if config.cluster and (live := _live_nodes(store, config)):
        fetcher.close()
        store.close()
        print(
            f"once: {len(live)} cluster node(s) alive ({', '.join(live)}): `monitor once` takes none of the "
            "cluster's locks and would poll and send beside them (duplicate alerts); stop them first, "
            "or use `monitor once --dry-run`",
            file=sys.stderr,
        )
        return 2
    pool = ThreadPoolExecutor(max_workers=min(8, len(feeds)))
    try:
        with frozen_heap():  # what was built so far lives to the end: no GC scans of it (issue 16)
            reports = list(pool.map(lambda f: pipeline.poll_feed(f, force=True, drain=True), feeds))
            pool.shutdown()
            delivery = pipeline.deliver(ignore_backoff=True, max_wait=ONCE_MAX_WAIT)
    except KeyboardInterrupt:
        # Stop now: don't wait for the slowest request. Every store write is its own
        # transaction, so what was saved stays saved and the rest is redone next time.
        pool.shutdown(wait=False, cancel_futures=True)
        print("interrupted", file=sys.stderr)
        sys.stdout.flush()
        logging.shutdown()
        os._exit(130)
    finally:
        fetcher.close()
        store.close()
    _print_reports(reports)
    print(f"alerts: sent={delivery.sent} retrying={delivery.failed} dead={delivery.dead} stranded={delivery.stranded}")
    for channel, n in delivery.stranded_by:
        print(
            f"stranded: {n} alert(s) of channel {channel!r}: {STRANDED}; kept, sent when it is back,"
            f" or run `monitor outbox move {channel} NEW`"
        )
    if delivery.waiting:
        print(
            f"rate limit: {delivery.waiting} wait for the rate limit (kept queued; sent by the next pass or the daemon)"
        )
    return _all_failed(reports)


def _live_nodes(store: Any, config: Any) -> list[str]:
    """Names of the cluster's nodes alive now (each by its own stall timeout)."""
    from monitor.service.cluster_status import row_alive_for

    return [
        r.name
        for r in store.nodes()
        if r.stopped_at is None and r.beat_age <= row_alive_for(r, config.cluster_stall_after, 1.0)
    ]


def _print_reports(reports: list[Any]) -> None:
    for r in reports:
        status = ("ok" + (f" (warning: {r.warning})" if r.warning else "")) if r.ok else f"FAILED: {r.error}"
        print(f"{r.feed}: {status} items={r.items} new={r.new} matched={r.matched}")


def _all_failed(reports: list[Any]) -> int:
    if reports and not any(r.ok for r in reports):
        print(f"every source failed ({len(reports)})", file=sys.stderr)
        return 1
    return 0


def _dry_run(config: Any, feeds: tuple[Any, ...]) -> int:
    """`once --dry-run`: the same pass on a throw-away copy of the store (storage/snapshot.py):
    fetch, extract, match, then print each message a real pass would send, rendered, to
    which channel. Nothing is sent; the store is only read (never created)."""
    import tempfile
    from dataclasses import replace

    from monitor.storage import snapshot

    with tempfile.TemporaryDirectory(prefix="monitor-dry-run-") as folder:
        copy = snapshot(config.storage_url, Path(folder))
        print(f"dry run: {copy.note}; nothing is sent")
        store, fetcher, pipeline = open_pipeline(replace(config, storage_url=copy.url))
        try:
            with ThreadPoolExecutor(max_workers=min(8, len(feeds))) as pool:
                reports = list(pool.map(lambda f: pipeline.poll_feed(f, force=True), feeds))
            planned = pipeline.outbox.preview()
        finally:
            fetcher.close()
            store.close()
    _print_reports(reports)
    for p in planned:
        what = "digest" if p.digest else "alert"
        print(f"--- would send {what} to {p.channel}: topics {', '.join(p.topics)} (outbox rows {len(p.alert_ids)})")
        for i, part in enumerate(p.parts):
            if len(p.parts) > 1:
                print(f"[part {i + 1}/{len(p.parts)}]")
            print(f"subject: {part.subject}")
            print(part.text.rstrip("\n"))
    print(f"alerts: would send {len(planned)} message(s) (dry run: nothing sent, nothing stored)")
    return _all_failed(reports)


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.service import daemon

    config = load(args)
    log.info(
        "start version=%s config=%s store=%s feeds=%d topics=%d",
        _version(),
        str(config.path),
        _safe_url(config.storage_url),
        len(config.feeds),
        len(config.topics),
    )
    store, fetcher, pipeline = open_pipeline(config)
    try:
        cls = daemon.Daemon
        if config.cluster:
            from monitor.service.cluster import ClusterNode

            cls = ClusterNode
        code = daemon.run(pipeline, cls=cls, load=lambda: load(args), make_fetcher=make_fetcher)
    finally:
        fetcher.close()
        store.close()
    if code == daemon.EXIT_CUT_OFF:  # worker threads are still in a request: don't wait for them
        logging.shutdown()
        os._exit(code)
    return code


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.cli.status import status

    return status(load(args), as_json=args.json, verbose=args.verbose)


def cmd_test_alert(args: argparse.Namespace) -> int:
    from monitor.delivery import notify
    from monitor.delivery.render import render_test_message
    from monitor.models import ChannelKind, channel_kind

    config = load(args)
    urls = config.channels.get(args.channel)
    if urls is None:
        print(f"unknown channel {args.channel!r} (channels: {', '.join(config.channels) or 'none'})", file=sys.stderr)
        return 2
    notify.configure(config.notify.telegram_api_url)
    kind = channel_kind(urls)
    preview = config.channel(args.channel).link_preview if kind is ChannelKind.TELEGRAM else "off"
    if preview != "off":  # the path real alerts on this channel take (README: the same on every message)
        result = _test_with_preview(config, list(urls), render_test_message(kind), kind, preview)
    else:
        result = notify.send(args.channel, list(urls), render_test_message(kind), kind=kind)
    if result.ok:
        print(f"test alert sent to {args.channel}")
        return 0
    print(f"test alert to {args.channel} failed: {result.error}", file=sys.stderr)
    return 1


def _test_with_preview(config: Any, urls: list[str], message: Any, kind: Any, preview: str) -> Any:
    """A test message on a Telegram channel with `link_preview` set, sent as its alerts are:
    a plain chat target through the direct Bot API call (its `link_preview_options`), other
    targets through apprise with `preview=yes`; the first failure, else the last result."""
    from monitor.delivery import notify, targets, telegram

    result = None
    for configured in urls:
        for url in targets.expand(configured):
            if telegram.target(url):
                result = telegram.send(url, message.html, api_url=config.notify.telegram_api_url, preview=preview)
            else:
                result = notify.send_one(telegram.with_preview(url), message, kind=kind)
            if not result.ok:
                return result
    return result


def cmd_topics(args: argparse.Namespace) -> int:
    config = load(args)
    rows = [topic_row(t) for t in config.topics]
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        groups = f"all={r['all_groups']} any={r['any_terms']} none={r['none_terms']}"
        print(f"{r['id']} ({r['name']}): {r['terms']} terms, {groups} -> {', '.join(r['notify'])}")
        extra = [f"{k}={','.join(r[k])}" for k in ("feeds", "languages") if r[k]]
        extra += [f"alert={r['alert']}"] + ([f"min_score={r['min_score']:g}"] if r["min_score"] is not None else [])
        extra += ["urgent"] if r["urgent"] else []
        print("  " + " ".join(extra))
    return 0


def topic_row(topic: Any) -> dict[str, Any]:
    """One topic as a JSON-ready dict (pure): id, name, term counts, notify, filters, mode."""
    rule = topic.rule()
    return {
        "id": topic.id,
        "name": topic.name,
        "terms": sum(len(g) for _, g in rule.groups()),
        "all_groups": len(rule.all),
        "any_terms": len(rule.any),
        "none_terms": len(rule.none),
        "notify": list(topic.notify),
        "feeds": list(topic.feeds),
        "languages": list(topic.languages),
        "alert": topic.alert,
        "min_score": topic.min_score,
        "urgent": topic.urgent,
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("monitor")
    except PackageNotFoundError:
        import monitor

        return monitor.__version__


class _VersionAction(argparse.Action):
    """`--version`: argparse's own action, with the version read from the package metadata
    only when asked (≈ 3 ms that every other command would pay; issue 16)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show program's version number and exit"
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"monitor {_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description="Watch Arabic news feeds and alert on topics.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="VERB")
    sub.add_parser("run", help="run the daemon until SIGTERM/SIGINT").set_defaults(func=cmd_run)
    p = sub.add_parser("once", help="poll every feed once, deliver alerts, exit (1 when every source failed)")
    p.add_argument("--feed", action="append", metavar="NAME", help="only this feed (repeatable)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="fetch, extract and match, print each message that would be sent; send and store nothing",
    )
    p.set_defaults(func=cmd_once)
    sub.add_parser("check", help="validate the config and print a summary").set_defaults(func=cmd_check)
    p = sub.add_parser("status", help="one-screen summary: feeds, matches today, outbox, last errors")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the screen")
    p.add_argument("-v", "--verbose", action="store_true", help="every feed and every error in full")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("topics", help="the topics: terms, channels, filters")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per topic")
    p.set_defaults(func=cmd_topics)
    p = sub.add_parser("test-alert", help="send a test message through one channel")
    p.add_argument("channel", help="a channel name from `channels:` in config.yaml")
    p.set_defaults(func=cmd_test_alert)
    for verb in (explain, feeds, outbox, stories, suggest):  # verb modules: one `register(sub)` each
        verb.register(sub)
    add_global_options(parser)
    return parser


MALLOC_ARENAS = 2  # glibc malloc arenas for the whole process (issue 16: ≈ -30 MB peak, same CPU)
_M_ARENA_MAX = -8  # mallopt parameter number, from glibc's <malloc.h>


def fewer_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas before worker threads start; True when applied.

    glibc gives threads that meet on a malloc lock arenas of their own (up to 8 per core),
    each keeping its freed memory: with the fetch workers, channel senders and scheduler
    threads that is tens of MB of resident memory that a single-threaded script does not
    have. Python's own small-object allocator works under the GIL, so fewer arenas cost no
    measurable CPU. Skipped when ``MALLOC_ARENA_MAX`` is set (glibc already read it) and
    on a C library without ``mallopt`` (musl, macOS)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))


def main(argv: list[str] | None = None) -> int:
    """Run one verb; everything it prints (stdout, stderr, logs) goes through `redact`.

    Called as the program (`argv` None: the `monitor` script, `python -m monitor`), it leaves
    every object frozen (`gc.freeze`) for the interpreter's exit, whose final collections then
    skip them (issue 16: the exit cost ≈ 90-200 ms CPU of a `once`; bench/README.md "The garbage
    collector in a pass"). Objects are still freed at exit as before; only reference cycles left
    at exit are not walked (the OS takes their memory back)."""
    fewer_malloc_arenas()
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingWriter(out), RedactingWriter(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err
        if argv is None:
            gc.freeze()


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (else autocomplete() returns at once)
        try:
            import argcomplete  # optional: `pip install 'monitor[completion]'`; ≈ 10 ms to import
        except ImportError:
            pass
        else:
            argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    given = str(args.log_level)  # MONITOR_LOG_LEVEL=debug: argparse checks only --log-level
    args.log_level = given.strip().upper()
    if args.log_level not in common.LOG_LEVELS:
        parser.error(f"MONITOR_LOG_LEVEL={given!r}: must be one of {', '.join(common.LOG_LEVELS)} (any case)")
    logs.setup(args.log_level)
    try:
        with common.safe_terminal():  # feed text never reaches the terminal as control codes
            return _run(args)
    except BrokenPipeError:
        # `monitor feeds | head`: the reader has what it wanted. Point stdout at /dev/null
        # so the interpreter's final flush does not raise again (Python's SIGPIPE recipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the BrokenPipeError handler
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
