"""The long-running daemon: APScheduler polls each feed at its interval, one sender thread
per channel drains the outbox (monitor.delivery.outbox); signals stop or reload it.
Cluster mode (service/cluster.py) subclasses it: polls and sends become procrastinate jobs.

Under systemd (Type=notify) it tells the manager READY=1 once running, RELOADING=1 /
READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM, and WATCHDOG=1 only while a
heartbeat job (its own executor, a store ping) keeps running and feed jobs keep finishing.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import metrics
from monitor.config.load import Config, Feed, Fetch
from monitor.errors import ConfigError, MonitorError
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.health import HealthServer
from monitor.service.sdnotify import Notifier
from monitor.storage import stats

log = logging.getLogger(__name__)

WORKERS = 8
PRUNE_EVERY = 6 * 3600.0  # seconds between drops of article text older than defaults.retention
HEARTBEAT_EVERY = 10.0  # seconds; shorter when the systemd watchdog interval asks for it
STALL_AFTER = 1800.0  # jobs in flight but none finished for this long: the workers are wedged
STOP_TIMEOUT = 60.0  # SIGTERM: in-flight work gets this long (the unit's TimeoutStopSec is longer)
SETTLE = 2.0  # reload_on_change: the file must be unchanged this long (editors write in steps)
EXIT_CUT_OFF = 3  # stopped, but some in-flight work was abandoned at the bound


def prune_text(pipeline: Pipeline, now: datetime | None = None) -> int:
    """Drop the text of articles older than defaults.retention (kept until then for backtest)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=pipeline.config.defaults.retention)
    count = pipeline.store.prune(cutoff)
    log.info("pruned article text count=%d older_than=%s", count, cutoff.isoformat(timespec="seconds"))
    return count


Signature = tuple[int, int, int] | None  # (mtime_ns, size, inode) of the config file; None: unreadable


def _file_signature(path: Path) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class ConfigWatch:
    """When `reload_on_change` should reload: once per settled version of the file.

    :meth:`changed` is fed the file's signature and a monotonic time (seconds) each tick
    and answers True once a new version has stayed unchanged for :data:`SETTLE` seconds.
    :meth:`loaded` records the version a reload read; a version that was refused
    (:meth:`refused`) is never tried again, by a change or a SIGHUP, until the file
    changes (issue 12, loss 8: a bad file is refused and logged once, not in a loop).
    """

    def __init__(self, seen: Signature, settle: float = SETTLE) -> None:
        self.seen = seen  # the version last read (or being run)
        self.settle = settle
        self.bad: Signature = None  # the version last refused (None with `has_bad` False: none)
        self.has_bad = False
        self._pending: tuple[Signature, float] | None = None

    def changed(self, current: Signature, now: float) -> bool:
        """Whether to reload now (a new version, settled)."""
        if current == self.seen or self.known_bad(current):
            self._pending = None
            return False
        if self._pending is None or self._pending[0] != current:
            self._pending = (current, now)
            return False
        return now - self._pending[1] >= self.settle

    def loaded(self, current: Signature) -> None:
        self.seen, self._pending = current, None

    def refused(self, current: Signature) -> None:
        self.bad, self.has_bad = current, True

    def known_bad(self, current: Signature) -> bool:
        """This exact version was refused already."""
        return self.has_bad and current == self.bad


def _fetch_settings(config: Config) -> tuple[float, str, Fetch]:
    """What a Fetcher is built from; a reload that changes it gets a new Fetcher."""
    return (config.defaults.timeout, config.defaults.user_agent, config.fetch)


class Daemon:
    """Scheduler, reload, health and notify around one Pipeline (swapped whole on reload)."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        load: Callable[[], Config] | None = None,
        make_fetcher: Callable[[Config], Fetcher] | None = None,
        notifier: Notifier | None = None,
        stop_timeout: float = STOP_TIMEOUT,
        stall_after: float = STALL_AFTER,
    ) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self._first_fetcher = pipeline.fetcher
        self.load = load
        self.make_fetcher = make_fetcher
        self.notifier = notifier or Notifier()
        self.stop_timeout = stop_timeout
        self.stall_after = stall_after
        self.stop_requested = threading.Event()
        self.reload_requested = threading.Event()
        self.stopping = threading.Event()  # shared with every pipeline: finish the item, then return
        pipeline.stopping = self.stopping
        self.ready = False
        self._retired: list[Fetcher] = []  # fetchers replaced on reload: closed at stop
        self._state_lock = threading.Lock()
        self._beat = time.monotonic()
        self._running: dict[str, float] = {}  # job id -> monotonic submit time
        self._finished = time.monotonic()
        wd = self.notifier.watchdog_usec
        self.watchdog_every = wd / 2e6 if wd else None  # ping at half the WatchdogSec
        self.heartbeat_every = min(HEARTBEAT_EVERY, wd / 4e6) if wd else HEARTBEAT_EVERY
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(WORKERS), "heartbeat": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._on_job, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self.http: HealthServer | None = None
        self._collector: metrics.StateCollector | None = None

    # ---- jobs ------------------------------------------------------------
    def _schedule_feed(self, feed: Feed, config: Config, first_in: float) -> None:
        interval = config.interval(feed)
        self.scheduler.add_job(
            self._poll,
            IntervalTrigger(seconds=interval, jitter=interval * config.defaults.jitter),
            args=[feed.name],
            id=f"feed:{feed.name}",
            name=f"poll feed={feed.name}",
            replace_existing=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=first_in),
        )

    def _poll(self, name: str) -> None:
        pipeline = self.pipeline  # read once: a reload mid-poll does not mix two configs
        feed = next((f for f in pipeline.config.feeds if f.name == name), None)
        if feed is None or self.stopping.is_set():
            return
        pipeline.poll_feed(feed)  # each stored alert wakes its channel's sender

    def _prune(self) -> None:
        prune_text(self.pipeline)

    def _heartbeat(self) -> None:
        stats.ping(self.store)  # raises StoreError: no beat, so the watchdog starves
        self._beat = time.monotonic()

    def _on_job(self, event: JobEvent) -> None:
        with self._state_lock:
            if event.code == EVENT_JOB_SUBMITTED:
                self._running[event.job_id] = time.monotonic()
            else:
                self._running.pop(event.job_id, None)
                if event.job_id.startswith("feed:"):  # the heartbeat finishing says nothing about workers
                    self._finished = time.monotonic()
                if event.code == EVENT_JOB_ERROR:
                    log.error("job failed job=%s error=%s", event.job_id, event.exception)

    # ---- health ----------------------------------------------------------
    def progress(self) -> tuple[bool, str]:
        """Is the scheduler making progress? (healthy, reason)."""
        now = time.monotonic()
        beat_limit = max(3 * self.heartbeat_every, self.watchdog_every or 0.0)
        if now - self._beat > beat_limit:
            return False, f"heartbeat {now - self._beat:.0f}s old"
        with self._state_lock:
            busy = [now - t for job, t in self._running.items() if job.startswith("feed:")]
            idle_for = now - self._finished
        if busy and min(busy) > self.stall_after and idle_for > self.stall_after:
            return False, f"{len(busy)} feed jobs running, none finished for {idle_for:.0f}s"
        return True, "ok"

    def snapshot(self) -> dict[str, Any]:
        """Readiness, progress and queue depths (for /healthz and /metrics)."""
        now = datetime.now(UTC)
        ok, reason = self.progress()
        backlog = stats.backlog(self.store, now)
        last = stats.last_success(self.store)
        return {
            "status": "ok" if self.ready and ok else ("starting" if not self.ready else "stalled"),
            "ready": self.ready,
            "progress": reason,
            "heartbeat_age_seconds": round(time.monotonic() - self._beat, 3),
            "last_successful_poll_age_seconds": round((now - last).total_seconds(), 3) if last else None,
            "outbox_pending": backlog.pending,
            "outbox_due": backlog.due,
            "outbox_dead": backlog.dead,
            "oldest_pending_age_seconds": round(backlog.oldest_pending_age, 3)
            if backlog.oldest_pending_age is not None
            else None,
            "articles_retrying": backlog.articles_retrying,
            "feeds": len(self.pipeline.config.feeds),
            "items": self.store.item_counts(),
        }

    def health(self) -> tuple[bool, dict[str, Any]]:
        try:
            s = self.snapshot()
        except MonitorError as exc:  # the store does not answer: unhealthy, and say why
            return False, {"status": "error", "ready": self.ready, "error": str(exc)}
        return s["status"] == "ok", s

    # ---- reload ----------------------------------------------------------
    def reload(self) -> bool:
        """Re-read the config; swap in a valid one, keep the old one on any error."""
        if self.load is None:
            log.warning("reload ignored: no config loader")
            return False
        self.notifier.reloading()
        try:
            ok = self._reload(self.load)
        finally:
            self.notifier.ready(self._status())
        metrics.RELOADS.labels("ok" if ok else "refused").inc()
        return ok

    def _reload(self, load: Callable[[], Config]) -> bool:
        old = self.pipeline
        try:
            config = load()
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("reload refused: %s", problem)
            log.error("reload refused problems=%d; still running the previous config", len(exc.problems))
            return False
        except MonitorError as exc:
            log.error("reload refused error=%s; still running the previous config", exc)
            return False
        except Exception as exc:  # any fault reading the new config must not end the daemon
            log.error("reload refused error=%s: %s; still running the previous config", type(exc).__name__, exc)
            return False
        if config.storage_url != old.config.storage_url:
            log.warning("reload: storage changes need a restart; keeping the open store")
            config = replace(config, storage_url=old.config.storage_url)
        if (config.cluster, config.cluster_stall_after) != (old.config.cluster, old.config.cluster_stall_after):
            log.warning("reload: cluster changes need a restart; keeping the current mode")
            config = replace(config, cluster=old.config.cluster, cluster_stall_after=old.config.cluster_stall_after)
        if config.http != old.config.http:
            log.warning("reload: http.listen changes need a restart; keeping the current listener")
            config = replace(config, http=old.config.http)
        fetcher = old.fetcher
        if self.make_fetcher is not None and _fetch_settings(config) != _fetch_settings(old.config):
            fetcher = self.make_fetcher(config)
        try:
            new = Pipeline(config, self.store, fetcher)
        except MonitorError as exc:
            log.error("reload refused error=%s; still running the previous config", exc)
            return False
        new.stopping = self.stopping
        # Senders belong to a config (channels, rates, quiet hours): the old ones finish the
        # message they are sending, then the new config's take over the same outbox.
        old.outbox.stop(timeout=self.stop_timeout)
        self.pipeline = new  # the swap: jobs read self.pipeline when they start
        self._start_senders(new)
        if fetcher is not old.fetcher:  # a poll may still be using the old one: close it at stop
            self._retired.append(old.fetcher)
        self._reschedule(old.config, config)
        log.info("config reloaded feeds=%d topics=%d", len(config.feeds), len(config.topics))
        return True

    def _reschedule(self, old: Config, new: Config) -> None:
        before = {f.name: f for f in old.feeds}
        after = {f.name: f for f in new.feeds}
        for name in before.keys() - after.keys():
            if self.scheduler.get_job(f"feed:{name}") is not None:
                self.scheduler.remove_job(f"feed:{name}")
            log.info("feed removed feed=%s", name)
        added = [f for f in new.feeds if f.name not in before]
        for i, feed in enumerate(added):
            self._schedule_feed(feed, new, first_in=0.5 * i)
            log.info("feed added feed=%s every=%.0fs", feed.name, new.interval(feed))
        for name in before.keys() & after.keys():
            interval, old_interval = new.interval(after[name]), old.interval(before[name])
            if (interval, new.defaults.jitter) != (old_interval, old.defaults.jitter):
                self.scheduler.reschedule_job(
                    f"feed:{name}", trigger=IntervalTrigger(seconds=interval, jitter=interval * new.defaults.jitter)
                )
                log.info("feed rescheduled feed=%s every=%.0fs", name, interval)

    def _start_senders(self, pipeline: Pipeline) -> None:
        """One sender thread per channel (cluster mode: send jobs instead, service/cluster.py)."""
        pipeline.outbox.start()

    def _status(self) -> str:
        config = self.pipeline.config
        return f"watching {len(config.feeds)} feeds for {len(config.topics)} topics"

    # ---- lifecycle -------------------------------------------------------
    def start(self) -> None:
        config = self.pipeline.config
        http = config.http
        if http.listen:
            self.http = HealthServer(
                http.listen, self.health, max_connections=http.max_connections, request_timeout=http.request_timeout
            ).start()
        self._collector = metrics.StateCollector(self.snapshot)
        metrics.REGISTRY.register(self._collector)
        self._schedule_work(config)
        self.scheduler.add_job(
            self._heartbeat,
            IntervalTrigger(seconds=self.heartbeat_every),
            id="heartbeat",
            executor="heartbeat",
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()
        self.ready = True
        self.notifier.ready(self._status())
        log.info("daemon started feeds=%d topics=%d", len(config.feeds), len(config.topics))

    def _schedule_work(self, config: Config) -> None:
        """Feeds at their intervals, the text prune, the senders (cluster mode: jobs instead)."""
        started = datetime.now(UTC)
        for i, feed in enumerate(config.feeds):
            # Stagger first polls a little so start-up is not one burst of requests.
            self._schedule_feed(feed, config, first_in=min(0.5 * i, 60.0))
            state = self.pipeline.store.feed_state(feed.name)
            due = started + timedelta(seconds=min(0.5 * i, 60.0))
            if state is not None and state.next_poll_at is not None and state.next_poll_at > due:
                due = state.next_poll_at  # a backoff or a server's hint survives the restart
            log.info(
                "feed scheduled feed=%s next=%s in=%.0fs",
                feed.name,
                due.isoformat(timespec="seconds"),
                (due - started).total_seconds(),
            )
        self.scheduler.add_job(
            self._prune,
            IntervalTrigger(seconds=PRUNE_EVERY),
            id="prune",
            next_run_time=datetime.now(UTC) + timedelta(seconds=5),
        )
        self._start_senders(self.pipeline)

    def loop(self) -> None:
        """Main thread: handle reload requests and feed the watchdog until a stop is asked."""
        tick = min(1.0, self.watchdog_every or 1.0)
        last_ping, starving = 0.0, False
        watch = ConfigWatch(_file_signature(self.pipeline.config.path))
        while not self.stop_requested.wait(tick):  # a timed wait lets signal handlers run promptly
            if self.pipeline.config.reload_on_change:
                if watch.changed(_file_signature(self.pipeline.config.path), time.monotonic()):
                    log.info("config file changed path=%s; reloading", self.pipeline.config.path)
                    self.reload_requested.set()
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                current = _file_signature(self.pipeline.config.path)
                if watch.known_bad(current):  # a SIGHUP on the version already refused: one short line
                    log.warning("reload skipped: the config file is the version already refused; fix it and save")
                else:
                    watch.loaded(current)
                    if not self.reload():
                        watch.refused(current)
            if self.watchdog_every and time.monotonic() - last_ping >= self.watchdog_every:
                ok, reason = self.progress()
                if ok:
                    self.notifier.watchdog()
                    last_ping, starving = time.monotonic(), False
                elif not starving:
                    log.error("no progress: %s; not feeding the systemd watchdog", reason)
                    starving = True

    def stop(self) -> bool:
        """Stop within `stop_timeout`; True when every in-flight job finished."""
        self.ready = False
        self.notifier.stopping()
        self.notifier.close()
        self.stopping.set()
        done = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
        if self.scheduler.running:
            done.start()
            done.join(self.stop_timeout)
        if self.http is not None:
            self.http.stop()
        if self._collector is not None:
            metrics.REGISTRY.unregister(self._collector)
            self._collector = None
        self.pipeline.outbox.stop(timeout=self.stop_timeout)  # each sender finishes its message
        if done.is_alive():
            log.error(
                "stop: in-flight work still running after %.0fs; exiting anyway (every store write is one transaction)",
                self.stop_timeout,
            )
            return False
        # Fetchers made on reload are ours to close; the first one belongs to the caller.
        for fetcher in [*self._retired, self.pipeline.fetcher]:
            if fetcher is not self._first_fetcher:
                fetcher.close()
        log.info("daemon stopped")
        return True

    def install_signals(self) -> None:
        def on_stop(signum: int, _frame: object) -> None:
            log.info("signal received signal=%s; stopping after in-flight work", signal.Signals(signum).name)
            self.stop_requested.set()

        def on_hup(_signum: int, _frame: object) -> None:
            log.info("signal received signal=SIGHUP; reloading the config")
            self.reload_requested.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)


def run(pipeline: Pipeline, stop: threading.Event | None = None, *, cls: type[Daemon] = Daemon, **kwargs: Any) -> int:
    """Run until SIGTERM/SIGINT (or `stop` is set); 0 after a clean stop, 3 if work was cut off.

    `cls` is the daemon (cluster mode: service/cluster.py's ClusterNode); `kwargs` are its
    keyword options (load, make_fetcher, notifier, stop_timeout, stall_after).
    """
    daemon = cls(pipeline, **kwargs)
    if stop is not None:
        daemon.stop_requested = stop
    if threading.current_thread() is threading.main_thread():
        daemon.install_signals()
    daemon.start()
    try:
        daemon.loop()
    finally:
        clean = daemon.stop()
    return 0 if clean else EXIT_CUT_OFF
