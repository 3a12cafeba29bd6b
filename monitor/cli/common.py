"""What every verb needs: the config as the daemon sees it, and the opened parts.

`load(args)` reads `--config` with the environment and systemd credentials
(and `MONITOR_STORAGE`), registers its secrets for redaction and returns the
frozen `Config`; errors: `ConfigError`. `open_pipeline(config)` opens the
store, the fetcher and the pipeline; `make_fetcher(config)` the fetcher alone. `frozen_heap()`
keeps what a pass has built before its work out of the garbage collector's scans while it works.
`add_global_options(parser)` puts `--config`/`--log-level` on the top parser and on every verb
below it, so they work before or after the verb; `unknown_name` words a name not found.
"""

from __future__ import annotations

import argparse
import gc
import io
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, TextIO, cast

from monitor.config.advice import did_you_mean
from monitor.config.credentials import environment
from monitor.config.load import Config, load_config
from monitor.errors import ConfigError
from monitor.redact import add_feed_urls, add_secrets
from monitor.text.terminal import terminal_safe

if TYPE_CHECKING:  # imported when a verb opens them, so `--help` and `check` stay light
    from monitor.fetch.client import Fetcher
    from monitor.pipeline import Pipeline
    from monitor.storage import ItemRow, Store
    from monitor.storage.checkcache import ChannelChecks

log = logging.getLogger(__name__)


# Verbs that never send: a channel whose ${VAR} is unset does not stop them (item 4 of issue 18).
READ_ONLY = frozenset({"status", "topics", "feeds", "explain", "backtest", "suggest", "stories", "outbox"})
# Verbs that log the config's warnings (`check` prints them).
LOGS_WARNINGS = frozenset({"run", "once"})
# The channel URL verdicts of the last load not written yet: its store had no table for them
_unsaved: list[ChannelChecks] = []


def load(args: argparse.Namespace) -> Config:
    """The config named by `args.config`, with `${VAR}` from env vars and systemd credentials.

    A read-only verb (READ_ONLY) loads a config whose channels miss their secrets and
    says so once on stderr; `run` and `once` log the config's warnings, and check a channel
    URL with apprise only when the store does not hold that verdict yet (config/checkcache.py)."""
    command = getattr(args, "command", None)
    read_only = command in READ_ONLY or getattr(args, "dry_run", False)
    only = getattr(args, "channel", None) if command == "test-alert" else None
    checks = None
    if command in LOGS_WARNINGS and not getattr(args, "dry_run", False):
        # apprise's verdicts on channel URLs kept in the store (issue 16: apprise is not imported
        # by a pass that sends nothing); `check` and the other verbs ask apprise every time
        from monitor.storage.checkcache import ChannelChecks

        checks = ChannelChecks(os.environ.get("MONITOR_STORAGE"))
    try:
        config = load_config(args.config, env=environment(), need_secrets=not (read_only or only), url_checks=checks)
    finally:
        if checks is not None:
            checks.close()
    if checks is not None:
        checks.save()
        _unsaved[:] = [checks] if checks.pending else []  # no table yet: open_pipeline makes it
    if only is not None:  # `test-alert NAME` needs the secrets of that channel only
        unset = [v for c, v in config.unset_variables if c == only]
        if unset:
            raise ConfigError([f"channels: {only}: environment variable {v} is not set" for v in unset])
    elif config.unresolved_channels:
        print(
            f"note: channel(s) {', '.join(config.unresolved_channels)} use ${{VAR}} values that are not set; "
            f"`monitor {command}{' --dry-run' if getattr(args, 'dry_run', False) else ''}` sends nothing,"
            " but `monitor run` needs them",
            file=sys.stderr,
        )
    if command in LOGS_WARNINGS:
        for warning in config.warnings:
            log.warning("config warning=%s", warning)
    storage = os.environ.get("MONITOR_STORAGE")
    if storage:  # e.g. set by the systemd unit to a path in StateDirectory
        config = replace(config, storage_url=storage)
    add_secrets(config.secrets)
    add_feed_urls(f.url for f in config.feeds)  # ?apikey=... values: secret in every output
    # the store's password and key-like query values (also from MONITOR_STORAGE) are masked in
    # every output; the rest of its URL is not secret: the startup line and `check` name it (issue 18)
    add_feed_urls([config.storage_url])
    return config


def make_fetcher(config: Config) -> Fetcher:
    """A fetcher with the config's limits, SSRF policy and user agent."""
    from monitor.fetch.client import Fetcher

    return Fetcher.from_config(config)


def open_pipeline(config: Config) -> tuple[Store, Fetcher, Pipeline]:
    """The store, fetcher and pipeline of one config; the caller closes store and fetcher."""
    from monitor.pipeline import Pipeline
    from monitor.storage import Store

    store = Store(config.storage_url)
    for checks in _unsaved:  # verdicts of this load whose table the store has only now
        checks.save()
    _unsaved.clear()
    fetcher = make_fetcher(config)
    return store, fetcher, Pipeline(config, store, fetcher)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Inside the block, every object that exists on entry (the imported modules, the config,
    the opened store and pipeline: ≈ 66,000 tracked objects in `monitor once`) is out of the
    cyclic garbage collector's reach (`gc.freeze`); on exit it is handed back (`gc.unfreeze`),
    so a caller running many passes in one process (the tests) keeps collecting it.

    Why (issue 16): the collector's full scans walk every tracked object, the imports'
    included, each time while articles are worked; frozen, they walk only what the pass made.
    Reference counting still frees a frozen object that goes out of use; only a reference
    cycle among them waits for the unfreeze. Figures: bench/README.md "The garbage collector
    in a pass"."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def when(value: datetime | None, now: datetime) -> str:
    """A moment relative to `now` for people: '-' for none, else '90s ago', 'in 2.5h' style."""
    if value is None:
        return "-"
    delta = (value - now).total_seconds()
    span = abs(delta)
    text = (
        f"{span:.0f}s"
        if span < 120
        else f"{span / 60:.0f}m"
        if span < 7200
        else f"{span / 3600:.1f}h"
        if span < 172800
        else f"{span / 86400:.1f}d"
    )
    return f"in {text}" if delta > 0 else f"{text} ago"


def format_item(row: ItemRow, now: datetime, outcomes: Mapping[int, Mapping[str, int]] | None = None) -> str:
    """One ledger row on one line: id, state/reason, when it is tried again, title, URL.
    `outcomes` ({article id: {alert status: count}}, Store.alert_outcomes): an ``alerted``
    item says what became of its alerts, e.g. ``alerted (alert dead: 1 of 2)``."""
    wait = f" (next try {when(row.next_try_at, now)})" if row.state == "pending" and row.next_try_at else ""
    label = row.title or row.guid or "(untitled)"
    where = row.url or row.guid
    state = row.state
    got = (outcomes or {}).get(row.article_id or -1) if row.state == "alerted" else None
    if got:
        total = sum(got.values())
        worst = next((s for s in ("dead", "pending") if got.get(s)), "sent")
        state += f" (alert {worst}: {got.get(worst, total)} of {total})" if worst != "sent" else " (alert sent)"
    return f"#{row.id} {state}/{row.reason_code}{wait}: {row.reason} | {label} {where}".rstrip()


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def count(text: str) -> int:
    """An argparse `type` for a count (`--limit`, `-n`, `--top`): a whole number >= 0;
    anything else is a usage error (exit 2), never a value handed to the store."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {value})")
    return value


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """`--config` and `--log-level` on `parser` (with their real defaults) and on every
    subparser below it, at any depth, with SUPPRESS defaults: a value given before the
    verb is never overwritten by a subparser's default, and the last one given wins.
    Also gives each subparser its help line as description (`monitor VERB -h`)."""

    def add(p: argparse.ArgumentParser, top: bool) -> None:
        p.add_argument(
            "--config",
            default=os.environ.get("MONITOR_CONFIG", "config.yaml") if top else argparse.SUPPRESS,
            help="path to config.yaml (default: $MONITOR_CONFIG or ./config.yaml)",
        )
        p.add_argument(
            "--log-level",
            default=os.environ.get("MONITOR_LOG_LEVEL", "INFO") if top else argparse.SUPPRESS,
            type=str.upper,  # `--log-level debug` as well as DEBUG
            choices=LOG_LEVELS,
            help="how chatty the logs on stderr are (any case; default: $MONITOR_LOG_LEVEL or INFO)",
        )

    def walk(p: argparse.ArgumentParser) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, child in action.choices.items():
                    if child.description is None and helps.get(name):
                        child.description = helps[name]
                    add(child, top=False)
                    walk(child)

    add(parser, top=True)
    walk(parser)


def unknown_name(kind: str, name: str, known: list[str]) -> str:
    """`unknown feed 'Nope' (did you mean 'BBC Arabic'?; feeds: ...)` (pure)."""
    hint = did_you_mean(name, known)
    listed = ", ".join(known) or "none"
    return f"unknown {kind} {name!r}" + (
        f" (did you mean {hint!r}?; {kind}s: {listed})" if hint else f" ({kind}s: {listed})"
    )


def print_json(value: object) -> None:
    """`value` as one line of JSON on stdout (dates as ISO text), secrets redacted."""
    import json

    from monitor.redact import redact

    print(redact(json.dumps(value, ensure_ascii=False, default=str)))


class SafeStream(io.TextIOBase):
    """A text stream that writes through `terminal_safe`: feed text printed by any verb
    (titles, outlets, URLs, errors) can never send ESC/BEL/C0/C1 controls or bidi
    overrides to the terminal. `raw` is the wrapped stream (for rich, which writes its
    own colour codes and is handed sanitised text)."""

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read-only here, as on sys.stdout
        return self.raw.encoding


@contextmanager
def safe_terminal() -> Iterator[None]:
    """Within: sys.stdout and sys.stderr write through `SafeStream`."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = cast(TextIO, SafeStream(out)), cast(TextIO, SafeStream(err))
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = out, err


def raw_stdout() -> TextIO:
    """The real stdout under `safe_terminal` (for rich; sanitise what you hand it)."""
    return sys.stdout.raw if isinstance(sys.stdout, SafeStream) else sys.stdout
