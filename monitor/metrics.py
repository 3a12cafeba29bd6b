"""Prometheus metrics fed by pipeline events, plus gauges read from the store when scraped.

Counters and histograms live on one process-wide registry (``registry()``); the
daemon registers a ``StateCollector`` for queue depths and readiness while it runs.

prometheus_client is imported when the registry is first asked for (the daemon, /metrics,
a test reading a sample), not by a ``monitor once`` pass that nobody scrapes (issue 16).
Until then each metric keeps its events (counter totals per label set, up to ``PENDING``
histogram observations) and replays them into the real metric when it is built, so the
figures read later are the same as if prometheus had been there from the start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

log = logging.getLogger(__name__)

PENDING = 10_000  # histogram observations kept before prometheus is loaded anyway (bounded memory)

_lock = threading.RLock()
_registry: list[CollectorRegistry] = []  # [] until registry() builds it


class _Bound:
    """One label set of a metric (what ``labels(...)`` gives)."""

    __slots__ = ("_metric", "_values")

    def __init__(self, metric: _Metric, values: tuple[str, ...]) -> None:
        self._metric, self._values = metric, values

    def inc(self, amount: float = 1.0) -> None:
        self._metric.record(self._values, amount)

    def observe(self, value: float) -> None:
        self._metric.record(self._values, value)


class _Metric:
    """A counter or histogram that becomes prometheus_client's own once the registry exists."""

    def __init__(self, kind: str, name: str, doc: str, labels: tuple[str, ...] = (), **kw: Any) -> None:
        self.kind, self.name, self.doc, self.label_names, self.kw = kind, name, doc, labels, kw
        self._real: Any = None
        self._totals: dict[tuple[str, ...], float] = {}  # counters before the registry
        self._seen: list[tuple[tuple[str, ...], float]] = []  # histogram observations before it
        _METRICS.append(self)

    def labels(self, *values: str) -> _Bound:
        return _Bound(self, tuple(values))

    def inc(self, amount: float = 1.0) -> None:
        self.record((), amount)

    def observe(self, value: float) -> None:
        self.record((), value)

    def record(self, values: tuple[str, ...], amount: float) -> None:
        """Add ``amount`` (counter) or observe it (histogram) for the label ``values``."""
        if self._real is None:
            with _lock:
                if self._real is None and (self.kind == "counter" or len(self._seen) < PENDING):
                    if self.kind == "counter":
                        self._totals[values] = self._totals.get(values, 0.0) + amount
                    else:
                        self._seen.append((values, amount))
                    return
            registry()  # too many observations kept: load prometheus now
        child = self._real.labels(*values) if values else self._real
        (child.inc if self.kind == "counter" else child.observe)(amount)

    def build(self, reg: CollectorRegistry) -> None:
        """Make the prometheus metric on ``reg`` and replay what was kept (under _lock)."""
        from prometheus_client import Counter, Histogram

        make = Counter if self.kind == "counter" else Histogram
        real: Any = make(self.name, self.doc, list(self.label_names), registry=reg, **self.kw)
        for values, amount in list(self._totals.items()) + self._seen:
            child = real.labels(*values) if values else real
            (child.inc if self.kind == "counter" else child.observe)(amount)
        self._totals, self._seen = {}, []
        self._real = real


_METRICS: list[_Metric] = []


def registry() -> CollectorRegistry:
    """The process-wide registry, built (prometheus_client imported, kept events replayed) on
    first call. Thread-safe; later calls return the same registry."""
    with _lock:
        if not _registry:
            from prometheus_client import CollectorRegistry, ProcessCollector

            reg = CollectorRegistry()
            ProcessCollector(registry=reg)  # RSS, open fds, CPU: what a soak run watches
            for m in _METRICS:
                m.build(reg)
            _registry.append(reg)
        return _registry[0]


POLLS = _Metric("counter", "monitor_polls", "Feed polls by result (ok, not_modified, error)", ("feed", "result"))
ERRORS = _Metric("counter", "monitor_errors", "Errors by feed and stage (feed, page, extract, item)", ("feed", "stage"))
ARTICLES = _Metric(
    "counter", "monitor_articles", "New articles processed, by feed and text source (page, summary)", ("feed", "source")
)
MATCHES = _Metric("counter", "monitor_matches", "Topic matches", ("topic",))
ALERTS = _Metric("counter", "monitor_alerts", "Alert send outcomes (sent, failed, dead)", ("channel", "outcome"))
ITEM_TRANSITIONS = _Metric(
    "counter", "monitor_item_transitions", "Feed items moved to a ledger state, by state", ("state",)
)
RELOADS = _Metric("counter", "monitor_config_reloads", "Config reloads by result (ok, refused)", ("result",))
POLL_SECONDS = _Metric(
    "histogram",
    "monitor_poll_duration_seconds",
    "One feed poll, all new items included",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
ARTICLE_SECONDS = _Metric(
    "histogram",
    "monitor_article_duration_seconds",
    "One new article: page, extract, match, store",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SEND_SECONDS = _Metric(
    "histogram",
    "monitor_alert_send_duration_seconds",
    "One alert send through apprise",
    ("channel",),
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class Timer:
    """`with Timer() as t: ...; t.seconds` (monotonic)."""

    def __enter__(self) -> Timer:
        self.start = time.monotonic()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start


class StateCollector:
    """Gauges computed at scrape time from a snapshot function (the daemon's health)."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily  # loaded: a registry is scraping us

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
