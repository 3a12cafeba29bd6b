"""What every verb needs: the config as the daemon sees it, and the opened parts.

`load(args)` reads `--config` with the environment and systemd credentials
(and `MONITOR_STORAGE`), registers its secrets for redaction and returns the
frozen `Config`; errors: `ConfigError`. `open_pipeline(config)` opens the
store, the fetcher and the pipeline; `make_fetcher(config)` the fetcher alone.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import TextIO, cast

from monitor.config.credentials import environment
from monitor.config.load import Config, load_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.redact import add_secrets
from monitor.storage import ItemRow, Store
from monitor.text.terminal import terminal_safe


def load(args: argparse.Namespace) -> Config:
    """The config named by `args.config`, with `${VAR}` from env vars and systemd credentials."""
    config = load_config(args.config, env=environment())
    storage = os.environ.get("MONITOR_STORAGE")
    if storage:  # e.g. set by the systemd unit to a path in StateDirectory
        config = replace(config, storage_url=storage)
    add_secrets(config.secrets)
    return config


def make_fetcher(config: Config) -> Fetcher:
    """A fetcher with the config's limits, SSRF policy and user agent."""
    return Fetcher.from_config(config)


def open_pipeline(config: Config) -> tuple[Store, Fetcher, Pipeline]:
    """The store, fetcher and pipeline of one config; the caller closes store and fetcher."""
    store = Store(config.storage_url)
    fetcher = make_fetcher(config)
    return store, fetcher, Pipeline(config, store, fetcher)


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


def format_item(row: ItemRow, now: datetime) -> str:
    """One ledger row on one line: id, state/reason, when it is tried again, title, URL."""
    wait = f" (next try {when(row.next_try_at, now)})" if row.state == "pending" and row.next_try_at else ""
    label = row.title or row.guid or "(untitled)"
    where = row.url or row.guid
    return f"#{row.id} {row.state}/{row.reason_code}{wait}: {row.reason} | {label} {where}".rstrip()


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
