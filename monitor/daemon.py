"""The long-running daemon: APScheduler runs each feed at its interval, one sender thread
per channel drains the outbox, signals stop both."""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .pipeline import Pipeline

log = logging.getLogger(__name__)

WORKERS = 8
PRUNE_EVERY = 6 * 3600.0   # seconds between drops of article text older than defaults.retention


def prune_text(pipeline: Pipeline, now: datetime | None = None) -> int:
    """Drop the text of articles older than defaults.retention (kept until then for backtest)."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(seconds=pipeline.config.defaults.retention)
    count = pipeline.store.prune(cutoff)
    log.info("pruned article text count=%d older_than=%s", count, cutoff.isoformat(timespec="seconds"))
    return count


def run(pipeline: Pipeline, stop: threading.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or `stop` is set); finish in-flight work; return 0."""
    stop = stop or threading.Event()
    config = pipeline.config
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(WORKERS)},
                                    job_defaults={"coalesce": True, "max_instances": 1,
                                                  "misfire_grace_time": None}, timezone=timezone.utc)
    now = datetime.now(timezone.utc)
    for i, feed in enumerate(config.feeds):
        interval = config.interval(feed)

        def poll(feed=feed) -> None:
            pipeline.poll_feed(feed)   # each stored alert wakes its channel's sender

        # Stagger first polls a little so start-up is not one burst of requests.
        scheduler.add_job(poll, IntervalTrigger(seconds=interval, jitter=interval * config.defaults.jitter),
                          id=f"feed:{feed.name}", next_run_time=now + timedelta(seconds=0.5 * i))

    scheduler.add_job(prune_text, IntervalTrigger(seconds=PRUNE_EVERY), args=[pipeline], id="prune",
                      next_run_time=now + timedelta(seconds=5))

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal received signal=%s; stopping after in-flight work", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    pipeline.outbox.start()   # one sender thread per channel
    scheduler.start()
    log.info("daemon started feeds=%d topics=%d", len(config.feeds), len(config.topics))
    while not stop.wait(1.0):   # a timed wait lets signal handlers run promptly
        pass
    scheduler.shutdown(wait=True)
    pipeline.outbox.stop()    # each sender finishes the message it is sending
    log.info("daemon stopped")
    return 0
