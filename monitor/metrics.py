"""Prometheus metrics fed by pipeline events, plus gauges read from the store when scraped.

Counters and histograms live on one process-wide registry (``REGISTRY``); the
daemon registers a ``StateCollector`` for queue depths and readiness while it runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.errors import MonitorError

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # RSS, open fds, CPU: what a soak run watches

POLLS = Counter(
    "monitor_polls", "Feed polls by result (ok, not_modified, error)", ["feed", "result"], registry=REGISTRY
)
ERRORS = Counter(
    "monitor_errors", "Errors by feed and stage (feed, page, extract, item)", ["feed", "stage"], registry=REGISTRY
)
ARTICLES = Counter(
    "monitor_articles",
    "New articles processed, by feed and text source (page, summary)",
    ["feed", "source"],
    registry=REGISTRY,
)
MATCHES = Counter("monitor_matches", "Topic matches", ["topic"], registry=REGISTRY)
ALERTS = Counter(
    "monitor_alerts", "Alert send outcomes (sent, failed, dead)", ["channel", "outcome"], registry=REGISTRY
)
ITEM_TRANSITIONS = Counter(
    "monitor_item_transitions", "Feed items moved to a ledger state, by state", ["state"], registry=REGISTRY
)
RELOADS = Counter("monitor_config_reloads", "Config reloads by result (ok, refused)", ["result"], registry=REGISTRY)
POLL_SECONDS = Histogram(
    "monitor_poll_duration_seconds",
    "One feed poll, all new items included",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
ARTICLE_SECONDS = Histogram(
    "monitor_article_duration_seconds",
    "One new article: page, extract, match, store",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
SEND_SECONDS = Histogram(
    "monitor_alert_send_duration_seconds",
    "One alert send through apprise",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)


class Timer:
    """`with Timer() as t: ...; t.seconds` (monotonic)."""

    def __enter__(self) -> Timer:
        self.start = time.monotonic()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start


class StateCollector(Collector):
    """Gauges computed at scrape time from a snapshot function (the daemon's health)."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        try:
            s = self.snapshot()
        except MonitorError as exc:  # the store is down: say so rather than fail the scrape
            log.warning("metrics snapshot failed error=%s", exc)
            s = {"ready": False}
        yield GaugeMetricFamily(
            "monitor_ready", "1 when the daemon is running with a valid config", value=1.0 if s.get("ready") else 0.0
        )
        gauges = [
            ("monitor_outbox_pending", "Alerts waiting to be sent", "outbox_pending"),
            ("monitor_outbox_due", "Pending alerts whose next attempt is due", "outbox_due"),
            ("monitor_outbox_dead", "Alerts given up on", "outbox_dead"),
            (
                "monitor_outbox_oldest_pending_age_seconds",
                "Age of the oldest pending alert",
                "oldest_pending_age_seconds",
            ),
            ("monitor_articles_retrying", "Article pages waiting for another fetch attempt", "articles_retrying"),
            (
                "monitor_last_successful_poll_age_seconds",
                "Seconds since any feed was polled successfully",
                "last_successful_poll_age_seconds",
            ),
            (
                "monitor_heartbeat_age_seconds",
                "Seconds since the scheduler last ran its heartbeat",
                "heartbeat_age_seconds",
            ),
            ("monitor_scheduled_feeds", "Feeds with a scheduled poll job", "feeds"),
        ]
        for name, doc, key in gauges:
            if s.get(key) is not None:
                yield GaugeMetricFamily(name, doc, value=float(s[key]))
        if s.get("items"):
            g = GaugeMetricFamily("monitor_items", "Feed items in the ledger by state", labels=["state"])
            for state, n in s["items"].items():
                g.add_metric([state], float(n))
            yield g
