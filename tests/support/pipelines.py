"""A real Pipeline over feeds served by a loopback WebServer, on SQLite in tmp_path, for
integration tests: one topic with one term, alerts to a mailto channel nobody answers.
`defaults.backfill` is off unless a test passes it (the feeds carry old dates)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from monitor.config.load import Config, parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from tests.support.web import WebServer


class LocalPipelines:
    """Builds pipelines (`build`) and closes every store and fetcher it opened (`close`)."""

    def __init__(self, tmp_path: Path, web_server: WebServer) -> None:
        self.tmp_path, self.web_server = tmp_path, web_server
        self.opened: list[tuple[Store, Fetcher]] = []

    def build(
        self,
        feed_paths: Iterable[str],
        *,
        term: str,
        defaults: dict[str, Any] | None = None,
        fetch: dict[str, Any] | None = None,
    ) -> tuple[Pipeline, Store, Config]:
        """A pipeline polling each path of `feed_paths` (the feed is named after it)."""
        cfg = parse_config(
            yaml.safe_dump(
                {
                    "storage": f"sqlite:///{self.tmp_path / 'm.db'}",
                    # backfill off: these feeds carry the corpus's 2015 dates; tests of backfill pass it
                    "defaults": {"interval": "10m", "timeout": "5s", "backfill": "off", **(defaults or {})},
                    "fetch": {"allow_private_networks": True, **(fetch or {})},
                    "feeds": [{"name": p.strip("/"), "url": self.web_server.url(p)} for p in feed_paths],
                    "channels": {"mail": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
                    "topics": [{"id": "t", "name": "T", "any": [term], "notify": ["mail"]}],
                },
                allow_unicode=True,
            ),
            path=self.tmp_path / "config.yaml",
            env={},
        )
        store, fetcher = Store(cfg.storage_url), Fetcher.from_config(cfg)
        self.opened.append((store, fetcher))
        return Pipeline(cfg, store, fetcher), store, cfg

    def close(self) -> None:
        for store, fetcher in self.opened:
            fetcher.close()
            store.close()


@contextmanager
def local_pipelines(tmp_path: Path, web_server: WebServer) -> Iterator[LocalPipelines]:
    pipelines = LocalPipelines(tmp_path, web_server)
    try:
        yield pipelines
    finally:
        pipelines.close()


def feed_pipeline(tmp_path: Path, store_url: str, feeds: list[tuple[str, str]], terms: list[str]) -> Pipeline:
    """A Pipeline on `store_url` polling `feeds` ([(name, url)], private addresses allowed, no
    backfill) with one topic of `terms` to a json:// channel nobody listens on."""
    text = yaml.safe_dump(
        {
            "storage": store_url,
            "defaults": {"backfill": "off"},
            "fetch": {"allow_private_networks": True},
            "feeds": [{"name": n, "url": u} for n, u in feeds],
            "channels": {"mail": "json://127.0.0.1:9/"},
            "topics": [{"id": "t", "name": "T", "any": terms, "notify": ["mail"]}],
        },
        allow_unicode=True,
    )
    config = parse_config(text, path=tmp_path / "config.yaml", env={})
    return Pipeline(config, Store(config.storage_url), Fetcher.from_config(config))
