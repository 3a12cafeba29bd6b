"""Cluster mode (`cluster: true`): several `monitor run` nodes on one PostgreSQL store,
coordinated by procrastinate jobs instead of each node's own timers.

Every node runs a procrastinate worker in-process (its own thread and event loop) plus
the daemon's reload, health and signal handling (service/daemon.py). The work:

- ``monitor.tick`` -- a periodic task every :data:`TICK` second, deferred once per tick
  across the cluster (procrastinate's periodic defers). It queues a ``monitor.poll`` job
  per feed that is due (fetch/schedule.py ``cluster_due``: interval, jitter, backoff and
  server hints as in single-node mode), a ``monitor.send`` job per channel with due
  alerts, and reruns the jobs of a node whose worker heartbeat is older than *that
  node's* ``cluster_stall_after`` (a kill -9, a frozen VM; the figure is in its row).
- ``monitor.poll`` -- lock ``feed:NAME`` (one node polls a feed at a time) and queueing
  lock ``poll:NAME`` (at most one waiting); it re-checks that the feed is due under
  the lock, so a job queued while another poll ran does nothing.
- ``monitor.send`` -- lock ``channel:NAME``: one node sends on a channel at a time, its
  rate limits restarted from the channel's sends in the store (delivery/outbox.py
  ``take_over``), each send preceded by a check of the job's lease (storage/cluster.py
  ``Lease``: still held, the alert still pending) and every outcome it writes (sent,
  retry, dead, what a target got or refused) fenced by it: a node whose job was rerun
  elsewhere sends nothing more and its verdicts do not count. A send cut by a kill, or
  in flight when a node froze, is resent by the next holder (one duplicate at most).
  Digests are sends too, so one per channel per period across the cluster. A channel
  held in the store (storage/holds.py: a Telegram flood wait or a failure pause of one
  of its targets, for every node and every channel name sending there; its own rate
  hold while its limits are the ones it was made under; delivery/holds.py) is left
  alone, and a rate-limit slot further than RATE_WAIT_IN_JOB away ends the job with the
  channel held until then: no job sleeps in a worker slot, the tick queues the channel
  again when its hold ends.
- ``monitor.prune`` -- periodic every 6 h, once across the cluster.

Polls are on queue ``monitor.poll`` (storage ``POLL_QUEUE``), every other job on
``monitor`` (``QUEUE``): another application's jobs in a shared procrastinate schema are
never fetched. Of a node's SLOTS worker slots, POLL_SLOTS at most poll: with that many polls
running the worker fetches from ``monitor`` alone, so polls hanging on slow pages (a
tarpit, a page at its 30 s timeout, 100 pages a poll) leave OTHER_SLOTS slots to the tick,
the sends and the prune (redteam17d #2). Polls run in the node's own pool of POLL_SLOTS
threads, the other sync work (sends, the tick's store calls) in the loop's default
executor, made OTHER_SLOTS threads: neither kind waits for the other's threads.

The worker runs under supervision: when procrastinate stops it (a lost database
connection, its worker row deleted), it is restarted with backoff (RESTART_FIRST ..
RESTART_MAX seconds).

Each node claims its ``cluster_nodes`` row at start (refused, naming MONITOR_NODE, while
another live process holds the name) and beats it (name, host, pid, started, last beat,
its worker's id and its own stall timeout) from the daemon's heartbeat job, only while its
worker runs. Every stamp compared across nodes is the database's clock, never a node's.
/healthz and `monitor status` show the nodes and the job counts (queued, running, stalled).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from monitor.config.load import Config
from monitor.errors import ConfigError
from monitor.fetch.schedule import cluster_due
from monitor.pipeline import Pipeline
from monitor.service.cluster_status import (
    check_node_name,
    cluster_summary,
    conninfo,
    node_name,
    row_alive_for,
)
from monitor.service.daemon import HEARTBEAT_EVERY, Daemon, prune_text
from monitor.storage import POLL_QUEUE, QUEUE, QUEUES, Lease, NodeId, NodeRow

log = logging.getLogger(__name__)

TICK = 1  # seconds between ticks (procrastinate cron, seconds field)
FORGET_NODES = 7 * 86400.0  # seconds: rows of nodes gone this long are dropped by the prune
# seconds: procrastinate deletes worker rows silent this long (at a worker's start and in the
# prune). Far above any stall timeout: a frozen node's row stays, so on thaw its worker goes on
# (its jobs were rerun by the tick meanwhile and its late sends are fenced) instead of failing
# on a worker id that no longer exists, and no node's own setting prunes a live slower node.
PRUNE_WORKERS = 86400.0
# seconds a stop may take beyond stop_timeout (the daemon's steps and the node's last row);
# stop_timeout + STOP_MARGIN stays under the unit's TimeoutStopSec (systemd/monitor.service)
STOP_MARGIN = 5.0
FETCH_EVERY = float(TICK)  # seconds: a worker with a slot free looks for jobs at least this often
RESTART_FIRST, RESTART_MAX = 1.0, 30.0  # seconds: backoff between restarts of a failed worker
# procrastinate priorities (a free worker slot takes the highest first): the tick and the sends
# before polls, so a backlog of polls filling every slot delays neither the queueing of new
# work nor the delivery of what is matched (sends ran only after the last poll otherwise).
PRIORITY = {"tick": 20, "send": 10, "prune": 5, "poll": 0}
# seconds a send job may wait in its worker slot for a rate-limit slot (Telegram's 1/s);
# a longer wait ends the job and holds the channel in the store until the slot is due (the
# tick queues it again then), so channels on a slow `rate:` never fill the worker's slots
# (procrastinate#292, huey#547: long waits inside jobs starve the periodic tick)
RATE_WAIT_IN_JOB = 2.0
DEFER_BATCH = 500  # jobs a tick defers in one round trip
# a namesake ends the session holding a name whose row is silent this many times the time a
# node stays alive (a paused VM, a dead machine's connection the server keeps for hours)
SILENT_TIMES = 3
# a node's worker slots: POLL_SLOTS at most poll, OTHER_SLOTS are always left to the tick,
# sends and prune (a backlog of polls hanging on slow pages took all 8 and every executor
# thread: alerts already matched waited for a poll to end, redteam17d #2; procrastinate#292,
# huey#547). POLL_SLOTS is as many polls as the default executor of 2 cores ran before.
POLL_SLOTS, OTHER_SLOTS = 6, 4
SLOTS = POLL_SLOTS + OTHER_SLOTS


def _lock(kind: str, name: str) -> str:
    return f"{kind}:{name}"


class ClusterNode(Daemon):
    """A Daemon whose polls and sends are procrastinate jobs shared with the other nodes."""

    def __init__(self, pipeline: Pipeline, **kwargs: Any) -> None:
        super().__init__(pipeline, **kwargs)
        config = pipeline.config
        self.node_stall = config.cluster_stall_after
        self.name = check_node_name(node_name())
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.started_at = datetime.now(UTC)
        self.node = NodeId(self.name, self.host, self.pid, self.started_at)  # this process's claim on the name
        self._name_lock = self.store.node_lock(self.name)  # held from the claim to the stop (a session's)
        self._name_lost = False  # another process holds this name's row now (logged once)
        # procrastinate's heartbeat: several per stall timeout, so one late beat is not a death, and
        # at least every HEARTBEAT_EVERY s whatever the timeout: a long one (10m, 7d) neither leaves a
        # lost job end unrecorded that long (a channel's lock held) nor lets PRUNE_WORKERS drop a live worker
        self.worker_beat = min(HEARTBEAT_EVERY, max(1.0, self.node_stall / 6))
        self.heartbeat_every = min(self.heartbeat_every, self.worker_beat)
        self._loop: asyncio.AbstractEventLoop | None = None  # the running worker's loop (None between runs)
        self._loop_guard = threading.Lock()  # _loop and _worker change together
        self._worker: asyncio.Task[None] | None = None
        self._procrastinate_worker: Any = None  # procrastinate.worker.Worker of the running run
        self._worker_ready = threading.Event()
        self._worker_alive = threading.Event()  # set while a worker runs; the node row beats only then
        self.worker_id: int | None = None  # procrastinate's id of this node's worker, once a job ran
        self.worker_restarts = 0
        self._ended: dict[int, float] = {}  # job id -> monotonic time its function returned
        self._polls = 0  # poll jobs running on this node's worker (read and changed on its loop only)
        self._poll_pool: ThreadPoolExecutor | None = None  # the running worker's poll threads
        self._thread: threading.Thread | None = None
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            logging.getLogger("procrastinate").setLevel(logging.WARNING)  # a line per job otherwise
        self.app = self._build_app(config)

    # ---- procrastinate --------------------------------------------------
    def _build_app(self, config: Config) -> Any:
        import procrastinate

        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(config.storage_url)))

        @app.task(name="monitor.poll", queue=POLL_QUEUE, pass_context=True, priority=PRIORITY["poll"])
        async def poll(context: procrastinate.JobContext, feed: str) -> None:
            self._note_worker(context.job.worker_id)
            if context.job.queue != POLL_QUEUE and self._polls >= POLL_SLOTS:
                # an older node's poll, queued on `monitor` (a rolling upgrade): fetched whatever
                # the poll count, so over the slots it goes to the poll queue (redteam17e #4)
                import procrastinate.exceptions as pe

                with contextlib.suppress(pe.AlreadyEnqueued):  # a copy waits there already
                    await poll.configure(lock=_lock("feed", feed), queueing_lock=_lock("poll", feed)).defer_async(
                        feed=feed
                    )
                return
            with self._poll_slot():  # taken before the worker fetches again (this runs first)
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._poll_pool, self._poll_noted, context.job.id, feed)

        @app.task(name="monitor.send", queue=QUEUE, pass_context=True, priority=PRIORITY["send"])
        def send(context: procrastinate.JobContext, channel: str) -> None:
            job = context.job
            assert job.id is not None
            worker = job.worker_id if job.worker_id is not None else self.store.worker_of_job(job.id)
            self._note_worker(worker)
            if worker is None:
                log.warning("send job not held job=%s channel=%s", job.id, channel)
                return
            with self._ended_on_return(job.id):
                self.send_job(channel, Lease(job.id, worker, job.attempts))

        @app.periodic(cron=f"* * * * * */{TICK}", periodic_id="tick")
        @app.task(name="monitor.tick", queue=QUEUE, queueing_lock="tick", priority=PRIORITY["tick"])
        async def tick(timestamp: int) -> None:
            await self._tick(poll, send)

        @app.periodic(cron="17 */6 * * *", periodic_id="prune")
        @app.task(name="monitor.prune", queue=QUEUE, queueing_lock="prune", priority=PRIORITY["prune"])
        async def prune(timestamp: int) -> None:
            await asyncio.to_thread(prune_text, self.pipeline)
            await asyncio.to_thread(self.store.forget_nodes, FORGET_NODES)
            await self.app.job_manager.prune_stalled_workers(PRUNE_WORKERS)

        return app

    async def _tick(self, poll: Any, send: Any) -> None:
        """Queue the due sends, then the due polls, that have no copy waiting yet: one read
        of the waiting queueing locks, then the missing jobs in batches of DEFER_BATCH (one
        round trip each), so a tick costs a bounded number of round trips whether every job
        waits already (a lagging cluster) or none does (thousands of feeds due at a start or
        after an outage: a defer per feed took 30 s for 3,000 and held the sends behind it,
        redteam17d #4)."""
        feeds, channels = await asyncio.to_thread(self.due_work)
        waiting = await asyncio.to_thread(self.store.waiting_locks) if feeds or channels else set()
        for kind, task, names, arg in (("channel", send, channels, "channel"), ("feed", poll, feeds, "feed")):
            queued = "poll" if kind == "feed" else "send"
            jobs = [
                task.configure(lock=_lock(kind, name), queueing_lock=_lock(queued, name)).make_new_job(**{arg: name})
                for name in names
                if _lock(queued, name) not in waiting
            ]
            for i in range(0, len(jobs), DEFER_BATCH):
                await self._defer(jobs[i : i + DEFER_BATCH])
        await self._rerun_stalled()

    async def _defer(self, jobs: list[Any]) -> None:
        """Defer `jobs` in one round trip. A batch one of whose jobs has a copy waiting (a
        concurrent tick queued it meanwhile) is refused whole: it is sent again without the
        jobs now waiting, a few times, then one by one."""
        import procrastinate.exceptions as pe

        manager = self.app.job_manager
        for _ in range(3):
            if not jobs:
                return
            try:
                await manager.batch_defer_jobs_async(jobs)
                return
            except pe.AlreadyEnqueued:
                waiting = await asyncio.to_thread(self.store.waiting_locks)
                jobs = [job for job in jobs if job.queueing_lock not in waiting]
        for job in jobs:
            with contextlib.suppress(pe.AlreadyEnqueued):  # one is waiting already
                await manager.batch_defer_jobs_async([job])

    async def _rerun_stalled(self) -> None:
        """Jobs of a worker silent longer than its *holder's* ``cluster_stall_after`` (the
        holder node's row, storage/cluster.py ``stalled_jobs``; this node's figure for a
        worker no row names) go back to the queue (procrastinate does not do it by itself:
        its docs' recipe is this periodic retry). A job whose queueing lock is taken by a
        waiting copy is deleted instead: the copy does the work, retrying it would break the
        unique queueing-lock index (procrastinate issues #1446 and #1543), and nothing
        failed, so ``jobs_failed`` does not count it. The tick itself has no lock, so a
        dead node's tick never blocks the others' (procrastinate issue #1408)."""
        import procrastinate.exceptions as pe
        from procrastinate.jobs import Status

        manager = self.app.job_manager
        for job in await asyncio.to_thread(self.store.stalled_jobs, self.node_stall):
            try:  # due now by the database's clock (a node's clock ahead would delay it)
                await manager.retry_job_by_id_async(job.id, retry_at=await asyncio.to_thread(self.store.db_now))
                log.warning("stalled job rerun job=%s task=%s lock=%s", job.id, job.task_name, job.lock)
            except pe.ConnectorException as exc:
                await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=True)
                cause = " ".join(str(exc.__cause__ or exc).split())[:200]
                log.warning(
                    "stalled job superseded job=%s lock=%s reason=%s", job.id, job.lock, cause or type(exc).__name__
                )

    def due_work(self, now: datetime | None = None) -> tuple[list[str], list[str]]:
        """(feeds due at `now`, channels with alerts due at `now`), each sorted (`now`: the
        database's clock, as every node reads it)."""
        now = now or self.store.db_now()
        config = self.pipeline.config
        clocks = self.store.feed_clocks()
        feeds = []
        for feed in config.feeds:
            clock = clocks.get(feed.name)
            if clock is None or cluster_due(
                now,
                feed.name,
                last_polled_at=clock.last_polled_at,
                next_poll_at=clock.next_poll_at,
                interval=config.interval(feed),
                jitter=config.defaults.jitter,
            ):
                feeds.append(feed.name)
        senders, found = self.pipeline.outbox.senders, self.store.holds()
        channels = [c for c in self.store.due_channels(now) if c in senders and senders[c].held(found) is None]
        return sorted(feeds), channels

    def _poll_noted(self, job_id: int | None, feed: str) -> None:
        with self._ended_on_return(job_id):
            self.poll_job(feed)

    @contextlib.contextmanager
    def _poll_slot(self) -> Iterator[None]:
        """Count a running poll; while POLL_SLOTS run, the worker fetches from ``monitor``
        alone (the tick, sends, prune), so polls never take the last OTHER_SLOTS slots.
        procrastinate (3.10, worker.py ``_fetch_and_process_jobs``) reads ``Worker.queues``
        at each fetch, and a fetched job's task runs up to its first await before the
        next fetch, so the count is up to date when the worker fetches again (the
        acceptance rows of tests/acceptance/test_cluster_redteam17d_slots.py fail if
        either stops holding). Called on the worker's loop only: no lock."""
        worker = self._procrastinate_worker
        self._polls += 1
        if worker is not None and self._polls >= POLL_SLOTS:
            worker.queues = [QUEUE]
        try:
            yield
        finally:
            self._polls -= 1
            if worker is not None and self._polls < POLL_SLOTS:
                worker.queues = list(QUEUES)  # fetched again within FETCH_EVERY at most

    def poll_job(self, name: str) -> None:
        """Poll feed `name` if it is still due (under its lock; see the module docstring)."""
        pipeline = self.pipeline  # read once: a reload mid-poll does not mix two configs
        feed = next((f for f in pipeline.config.feeds if f.name == name), None)
        if feed is None or self.stopping.is_set():
            return
        state = self.store.feed_state(name)
        now = self.store.db_now()  # the feed's stamps in the clock every node reads them with
        if (
            state is not None
            and state.url == feed.url
            and not cluster_due(
                now,
                name,
                last_polled_at=state.last_polled_at,
                next_poll_at=state.next_poll_at,
                interval=pipeline.config.interval(feed),
                jitter=pipeline.config.defaults.jitter,
            )
        ):
            log.debug("feed not due feed=%s (polled by another node)", name)
            return
        key = f"feed:{name}"  # the daemon's wedge check (progress) counts running polls by this key
        with self._state_lock:
            self._running[key] = time.monotonic()
        try:
            pipeline.poll_feed(feed, force=True, now=now)
        finally:
            with self._state_lock:
                self._running.pop(key, None)
        self._finished_at()

    def send_job(self, channel: str, lease: Lease) -> None:
        """Drain `channel` while `lease` holds it. A channel held in the store (a flood wait,
        a failure pause, a rate-limit wait) is left alone; a rate-limit slot further than
        RATE_WAIT_IN_JOB seconds away ends the job and holds the channel until then."""
        sender = self.pipeline.outbox.senders.get(channel)
        if sender is None or self.stopping.is_set():
            return
        hold = sender.held(self.store.holds())  # read once: take_over (under drain) trusts it
        if hold is not None:
            log.debug("channel held channel=%s for=%.1fs reason=%s kind=%s", channel, hold.left, hold.reason, hold.kind)
            return
        log.info("channel taken channel=%s node=%s job=%d worker=%d", channel, self.name, lease.job_id, lease.worker_id)
        # the lease is the job's, taken over under the drain lock
        report = sender.drain(self.store.db_now(), lease=lease, max_wait=RATE_WAIT_IN_JOB)
        if sender.rate_limited:  # the slot is far: free the worker, the tick queues the channel then
            self.store.hold_rate(channel, sender.rate_wait, sender.rate)
            log.info(
                "channel waits for its rate limit channel=%s for=%.0fs node=%s", channel, sender.rate_wait, self.name
            )
        if report.sent or report.failed or report.dead:
            log.info(
                "channel drained channel=%s sent=%d failed=%d dead=%d node=%s",
                channel,
                report.sent,
                report.failed,
                report.dead,
                self.name,
            )

    def _note_worker(self, worker: int | None) -> None:
        """Log this node's procrastinate worker id once (it names the node in the jobs table)."""
        if worker is not None and worker != self.worker_id:
            self.worker_id = worker
            log.info("node worker node=%s worker=%d", self.name, worker)

    def _finished_at(self) -> None:
        with self._state_lock:
            self._finished = time.monotonic()

    @contextlib.contextmanager
    def _ended_on_return(self, job_id: int | None) -> Iterator[None]:
        """Note when job `job_id`'s function returned: if its end is not recorded a beat later
        (the connection dropped under procrastinate's ``finish_job``), the heartbeat
        records it again (:meth:`_recover_lost_ends`)."""
        yield
        if job_id is not None:
            with self._state_lock:
                self._ended[job_id] = time.monotonic()

    def _recover_lost_ends(self) -> None:
        """Finish again the jobs whose function returned over a worker beat ago but whose row
        is still ``doing`` under this node's running worker. Such a row is a lost write
        (procrastinate's ``finish_job`` failed on a dropped connection and is not retried):
        the worker is alive and beating, so no takeover ever frees the job's lock, and a
        channel's sends would stop for good. Recorded as succeeded and deleted, as the
        worker would have (``delete_jobs="successful"``)."""
        from procrastinate.jobs import Status

        worker, loop = self._procrastinate_worker, self._loop
        wid = getattr(worker, "worker_id", None)
        now = time.monotonic()
        with self._state_lock:
            old = [j for j, t in self._ended.items() if now - t >= self.worker_beat]
            for j in old:
                del self._ended[j]
        if wid is None or loop is None or not old:
            return
        for job_id in self.store.still_doing(int(wid), old):
            done = asyncio.run_coroutine_threadsafe(
                self.app.job_manager.finish_job_by_id_async(job_id, status=Status.SUCCEEDED, delete_job=True), loop
            )
            done.result(self.worker_beat * 3)
            log.warning("job end recorded again job=%d worker=%d (its first record was lost)", job_id, wid)

    # ---- the worker thread ------------------------------------------------
    def _run_worker(self) -> None:
        """Run procrastinate's worker until the node stops, restarting it with backoff
        (RESTART_FIRST doubling to RESTART_MAX seconds) whenever it ends on its own: a
        lost listener connection (a database restart or failover) stops procrastinate's
        worker for good, and a node must not stay up doing nothing."""
        delay = RESTART_FIRST
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                asyncio.run(self._worker_main())
                reason = "worker stopped"
            except BaseException as exc:  # restarted below
                reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            finally:
                self._worker_ready.set()
            if self.stopping.is_set():
                break
            if time.monotonic() - began > 2 * RESTART_MAX:
                delay = RESTART_FIRST  # it ran a good while: start the backoff again
            self.worker_restarts += 1
            log.error("cluster worker ended node=%s reason=%s restart_in=%.0fs", self.name, reason, delay)
            if self.stopping.wait(delay):
                break
            delay = min(2 * delay, RESTART_MAX)

    async def _worker_main(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(OTHER_SLOTS, thread_name_prefix="cluster-jobs"))
        self._polls, self._poll_pool = 0, ThreadPoolExecutor(POLL_SLOTS, thread_name_prefix="cluster-poll")
        try:
            await self._run_procrastinate()
        finally:  # a poll still hanging is left behind (its thread ends with its page)
            self._poll_pool.shutdown(wait=False, cancel_futures=True)

    async def _run_procrastinate(self) -> None:
        from procrastinate.worker import Worker

        async with self.app.open_async():
            worker = Worker(
                app=self.app,
                queues=list(QUEUES),
                name=self.name,
                concurrency=SLOTS,
                fetch_job_polling_interval=FETCH_EVERY,
                install_signal_handlers=False,
                update_heartbeat_interval=self.worker_beat,
                stalled_worker_timeout=PRUNE_WORKERS,
                shutdown_graceful_timeout=self.stop_timeout,
                delete_jobs="successful",
            )
            task = asyncio.create_task(worker.run())  # type: ignore[no-untyped-call]
            with self._loop_guard:
                self._loop, self._worker, self._procrastinate_worker = asyncio.get_running_loop(), task, worker
            while worker.worker_id is None and not task.done():
                await asyncio.sleep(0.05)  # registering: its id goes in the node row at once
            self._worker_alive.set()
            if worker.worker_id is not None:
                # the row names the worker and this node's stall timeout before the worker's
                # heartbeat can look old by another node's (shorter) timeout
                try:
                    await asyncio.to_thread(self._beat_row)
                except Exception as exc:  # the store is down again: the heartbeat job retries
                    log.warning("node row not beaten node=%s error=%s", self.name, exc)
            self._worker_ready.set()
            try:
                await task
            except asyncio.CancelledError:
                pass
            finally:
                self._worker_alive.clear()
                with self._loop_guard:
                    self._loop = self._worker = self._procrastinate_worker = None

    # ---- Daemon hooks -----------------------------------------------------
    def start(self) -> None:
        """Claim this node's name (refused when another live process has it), then run."""
        self.claim_name()
        super().start()

    def claim_name(self) -> None:
        """Take this node's row for this process; ConfigError naming MONITOR_NODE, the cause
        and the fix when another live process holds the name."""
        holder = self.store.claim_node(self.node, self._name_lock, self._silent)
        if holder is not None:
            raise ConfigError(
                f"MONITOR_NODE={self.name!r} is in use by another running node (host {holder.host}, pid "
                f"{holder.pid}, last beat {holder.beat_age:.0f}s ago): two processes under one name would "
                "count as one node and hide each other's death. Give each node its own MONITOR_NODE "
                "(or leave it unset: host:pid and a random suffix), or stop the other process"
            )

    def _silent(self, row: NodeRow) -> bool:
        """Whether `row`'s node beat longer ago than SILENT_TIMES the time it stays alive (by
        its own stall timeout, cluster_status ``row_alive_for``; the database's clock): only
        then is the session still holding its name ended, so a holder slow to beat (a loaded
        machine, a short freeze) is never cut off."""
        return row.beat_age > SILENT_TIMES * row_alive_for(row, self.node_stall, self.heartbeat_every)

    def _schedule_work(self, config: Config) -> None:
        self._start_senders(self.pipeline)
        self._thread = threading.Thread(target=self._run_worker, name="cluster-worker", daemon=True)
        self._thread.start()
        self._worker_ready.wait(30.0)  # and its node row beaten (_worker_main)
        log.info(
            "cluster node started node=%s feeds=%d channels=%d stall_after=%.0fs",
            self.name,
            len(config.feeds),
            len(config.channels),
            self.node_stall,
        )

    def _start_senders(self, pipeline: Pipeline) -> None:
        """No sender threads: sends are `monitor.send` jobs. Alerts of channels the config no
        longer names are logged (stranded), at start and on each reload, as on one node."""
        pipeline.outbox.warn_orphans()

    def _reschedule(self, old: Config, new: Config) -> None:
        """Nothing to move: the tick reads the current config's feeds and intervals."""
        log.info("cluster feeds now=%d before=%d", len(new.feeds), len(old.feeds))

    def _heartbeat(self) -> None:
        try:
            super()._heartbeat()
            self._beat_row()
        finally:  # a failed beat never skips the re-record of lost job ends
            self._recover_lost_ends()

    def _beat_row(self) -> None:
        """Beat this node's row while its worker runs (and only then, so `monitor status` never
        calls a node without a worker alive), with the worker's id and this node's stall timeout."""
        worker = self._procrastinate_worker
        wid = getattr(worker, "worker_id", None)
        if not self._worker_alive.is_set() or wid is None:
            return
        # the name's session lock, taken again if its connection was lost (a database restart):
        # False when another process took the name meanwhile
        if self._name_lock.held() and self.store.beat(self.node, worker_id=int(wid), stall_after=self.node_stall):
            self._name_lost = False
        elif not self._name_lost:  # frozen past the alive window, or its lock's connection cut
            self._name_lost = True  # (a database restart): a namesake started meanwhile
            log.error(
                "node name taken node=%s OPERATOR ACTION NEEDED: another process claimed MONITOR_NODE=%s "
                "while this one was silent or its connection was cut; give each node its own name and "
                "restart this one (until then /healthz answers 503 and the watchdog is starved)",
                self.name,
                self.name,
            )

    def progress(self) -> tuple[bool, str]:
        """Unhealthy also while another live process holds this node's name (redteam17e #5:
        two processes under one name hide each other's death; the one that lost it says so)."""
        if not self._worker_alive.is_set():
            return False, f"cluster worker not running (restarts={self.worker_restarts})"
        if self._name_lost:
            return False, f"node name {self.name} taken by another process (MONITOR_NODE given twice?)"
        return super().progress()

    def snapshot(self) -> dict[str, Any]:
        body = super().snapshot()
        body["cluster"] = cluster_summary(self.store, self.node_stall, self.heartbeat_every, node=self.name)
        return body

    def stop(self) -> bool:
        """Stop within ``stop_timeout`` + STOP_MARGIN seconds in all, even when the store stops
        answering (a half-open connection blocks a query for good, with no error): the
        worker, the daemon's own stop and the node's last row each get what is left of one
        budget, and a step still blocked then is left behind (the CLI exits without waiting
        for the threads of a cut-off stop)."""
        began = time.monotonic()

        def left() -> float:
            return max(0.5, self.stop_timeout + STOP_MARGIN - (time.monotonic() - began))

        self.stopping.set()
        self.pipeline.outbox.stop(timeout=0)  # a send waiting on a rate limit gives up its turn
        with self._loop_guard:  # between runs, or after the last one, there is no loop to call
            if self._loop is not None and self._worker is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._worker.cancel)  # graceful: running jobs finish
        if self._thread is not None:
            self._thread.join(self.stop_timeout)  # the worker's own graceful timeout
        budget, self.stop_timeout = self.stop_timeout, left()  # the daemon's steps get the rest
        try:
            clean = super().stop() and not (self._thread is not None and self._thread.is_alive())
        finally:
            self.stop_timeout = budget

        def last_row() -> None:
            try:
                self.store.node_stopped(self.node)
            finally:
                self._name_lock.release()  # after the row: a namesake starting now finds it stopped

        returned, error = _bounded(last_row, left())
        if error:  # the store is gone or silent: the row just ages out
            log.warning("node stop not recorded node=%s error=%s", self.name, error)
        return clean and returned  # a silent store: threads may still wait on it, exit without them


def _bounded(step: Any, seconds: float) -> tuple[bool, str | None]:
    """Run `step` in a daemon thread for at most `seconds`: (whether it returned, its error
    or why it did not return)."""
    errors: list[str] = []

    def run() -> None:
        try:
            step()
        except Exception as exc:
            errors.append(" ".join(str(exc).split())[:200] or type(exc).__name__)

    thread = threading.Thread(target=run, name="cluster-stop-step", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return False, f"no answer from the store within {seconds:.1f}s"
    return True, errors[0] if errors else None
