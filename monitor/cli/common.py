"""What every verb needs: the config as the daemon sees it, and the opened parts.

`load(args)` reads `--config` with the environment and systemd credentials
(and `MONITOR_STORAGE`), registers its secrets for redaction and returns the
frozen `Config`; errors: `ConfigError`. `open_pipeline(config)` opens the
store, the fetcher and the pipeline; `make_fetcher(config)` the fetcher alone.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from datetime import datetime

from monitor.config.credentials import environment
from monitor.config.load import Config, load_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.redact import add_feed_urls, add_secrets
from monitor.storage import ItemRow, Store


def load(args: argparse.Namespace) -> Config:
    """The config named by `args.config`, with `${VAR}` from env vars and systemd credentials."""
    config = load_config(args.config, env=environment())
    storage = os.environ.get("MONITOR_STORAGE")
    if storage:  # e.g. set by the systemd unit to a path in StateDirectory
        config = replace(config, storage_url=storage)
    add_secrets(config.secrets)
    add_feed_urls(f.url for f in config.feeds)  # ?apikey=... values: secret in every output
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
