"""The notify protocol on a real unix datagram socket, and the watchdog fed only on progress."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from monitor import metrics
from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.daemon import Daemon
from monitor.service.sdnotify import Notifier
from monitor.storage import Store
from tests.support.service_helpers import NotifySocket, articles, serve_feed, wait_until


@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_states_reach_the_socket(abstract):
    sock = NotifySocket(abstract=abstract)
    try:
        n = Notifier({"NOTIFY_SOCKET": sock.address})
        assert n.enabled
        assert n.ready("watching 3 feeds") and n.watchdog() and n.reloading() and n.stopping()
        assert sock.wait_for("READY")["STATUS"] == "watching 3 feeds"
        sock.wait_for("WATCHDOG")
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        reloading = sock.wait_for("RELOADING")
        assert 0 < int(reloading["MONOTONIC_USEC"]) <= before  # CLOCK_MONOTONIC, as systemd reads it
        sock.wait_for("STOPPING")
        n.close()
    finally:
        sock.close()


def test_a_vanished_socket_is_logged_not_raised(caplog):
    sock = NotifySocket()
    n = Notifier({"NOTIFY_SOCKET": sock.address})
    sock.close()
    assert n.ready() is False
    n.close()
    assert "sd_notify failed" in caplog.text


def _daemon(tmp_path, web, feeds: list[tuple[str, str]], notifier: Notifier, **kwargs) -> Daemon:
    text = "storage: sqlite:///monitor.db\nfetch: {allow_private_networks: true}\ndefaults: {interval: 3600, jitter: 0, timeout: 20s}\nfeeds:\n"
    text += "".join(f"  - {{name: {name}, url: '{web.url(path)}'}}\n" for name, path in feeds)
    text += (
        "channels: {mail: 'mailto://127.0.0.1:9?from=a@example.com&to=b@example.com'}\n"
        "topics: [{id: t, name: T, any: [zzzz], notify: [mail]}]\n"
    )
    config = parse_config(text, path=tmp_path / "config.yaml", env={})
    store = Store(config.storage_url)
    fetcher = Fetcher.from_config(config)
    return Daemon(Pipeline(config, store, fetcher), notifier=notifier, **kwargs)


class Running:
    """Start a Daemon's loop in a thread; stop it and close what it used on exit."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.clean: bool | None = None

    def __enter__(self) -> Daemon:
        self.daemon.start()
        self.thread = threading.Thread(target=self.daemon.loop, daemon=True)
        self.thread.start()
        return self.daemon

    def __exit__(self, *exc: object) -> None:
        self.daemon.stop_requested.set()
        self.thread.join()
        if self.clean is None:
            self.clean = self.daemon.stop()
        if self.clean:
            self.daemon.pipeline.fetcher.close()
            self.daemon.store.close()


def test_watchdog_pings_stop_while_the_store_is_wedged_and_resume_after(tmp_path, web_server):
    serve_feed(web_server, "/a.xml", articles("2015-07-21", 0, 1))
    sock = NotifySocket()
    notifier = Notifier({"NOTIFY_SOCKET": sock.address, "WATCHDOG_USEC": "400000"})
    try:
        with Running(_daemon(tmp_path, web_server, [("A", "/a.xml")], notifier)) as daemon:
            sock.wait_for("READY")
            sock.wait_for("WATCHDOG", n=3)
            # Another process holds the SQLite write lock: the heartbeat's store ping blocks.
            blocker = sqlite3.connect(tmp_path / "monitor.db", isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            try:
                wait_until(lambda: not daemon.progress()[0], "the heartbeat to go stale")
                time.sleep(daemon.watchdog_every)  # a ping decided just before may still land
                starved = sock.count("WATCHDOG")
                time.sleep(4 * daemon.watchdog_every)
                assert sock.count("WATCHDOG") == starved
                assert "heartbeat" in daemon.progress()[1]
            finally:
                blocker.execute("COMMIT")
                blocker.close()
            sock.wait_for("WATCHDOG", n=starved + 1)
            assert daemon.progress()[0]
        assert sock.count("STOPPING") == 1
    finally:
        sock.close()


def test_feed_jobs_that_never_finish_count_as_no_progress(tmp_path, web_server):
    serve_feed(web_server, "/slow.xml", articles("2015-07-21", 0, 1), delay=3.0)
    notifier = Notifier({})
    with Running(_daemon(tmp_path, web_server, [("Slow", "/slow.xml")], notifier, stall_after=0.5)) as daemon:
        wait_until(lambda: web_server.requests_for("/slow/article-0.html"), "the slow page to be requested")
        wait_until(lambda: not daemon.progress()[0], "the stuck job to be noticed")
        assert "none finished" in daemon.progress()[1]
        wait_until(lambda: daemon.progress()[0], "progress once the job finishes")


def test_stop_interrupts_a_long_poll_between_items_and_keeps_the_rest_for_later(tmp_path, web_server):
    serve_feed(web_server, "/a.xml", articles("2015-07-21", 0, 6), delay=0.5)
    runner = Running(_daemon(tmp_path, web_server, [("A", "/a.xml")], Notifier({})))
    with runner as daemon:
        wait_until(lambda: web_server.requests_for("/a/article-1.html"), "the second page to be requested")
        runner.clean = daemon.stop()
        assert runner.clean is True
        stored = daemon.store.counts()["articles"]
        assert 1 <= stored < 6
        assert daemon.store.feed_state("A") is None  # not recorded as polled: nothing is skipped later
        rest = Pipeline(daemon.pipeline.config, daemon.store, daemon.pipeline.fetcher).poll_feed(
            daemon.pipeline.config.feeds[0]
        )
        assert rest.ok and rest.new == 6 - stored


def test_stop_gives_up_on_work_past_the_bound(tmp_path, web_server):
    serve_feed(web_server, "/a.xml", articles("2015-07-21", 0, 1), delay=4.0)
    runner = Running(_daemon(tmp_path, web_server, [("A", "/a.xml")], Notifier({}), stop_timeout=0.3))
    with runner as daemon:
        wait_until(lambda: web_server.requests_for("/a/article-0.html"), "the slow page to be requested")
        runner.clean = daemon.stop()
    assert runner.clean is False
    # The abandoned job still ends on its own; then the store is fine.
    wait_until(lambda: daemon.store.counts()["articles"] == 1, "the abandoned job to finish")
    daemon.pipeline.fetcher.close()
    daemon.store.close()


def test_reload_on_change_picks_up_a_saved_config_and_refuses_a_broken_one(tmp_path, web_server):
    from monitor.config.load import load_config

    serve_feed(web_server, "/a.xml", articles("2015-07-21", 0, 1))
    serve_feed(web_server, "/b.xml", articles("2015-07-22", 0, 1))
    path = tmp_path / "config.yaml"

    def text(feeds: str) -> str:
        return (
            "storage: sqlite:///monitor.db\nreload_on_change: true\nfetch: {allow_private_networks: true}\n"
            "defaults: {interval: 3600, jitter: 0}\nfeeds:\n"
            + feeds
            + "channels: {mail: 'mailto://127.0.0.1:9?from=a@example.com&to=b@example.com'}\n"
            "topics: [{id: t, name: T, any: [zzzz], notify: [mail]}]\n"
        )

    path.write_text(text(f"  - {{name: A, url: '{web_server.url('/a.xml')}'}}\n"), encoding="utf-8")
    config = load_config(path, env={})
    store, fetcher = Store(config.storage_url), Fetcher.from_config(config)
    daemon = Daemon(Pipeline(config, store, fetcher), load=lambda: load_config(path, env={}), notifier=Notifier({}))
    with Running(daemon):
        wait_until(lambda: web_server.requests_for("/a.xml"), "feed A polled")
        path.write_text(text(f"  - {{name: B, url: '{web_server.url('/b.xml')}'}}\n"), encoding="utf-8")
        wait_until(lambda: web_server.requests_for("/b.xml"), "feed B polled after the file changed")
        assert [f.name for f in daemon.pipeline.config.feeds] == ["B"]
        assert daemon.scheduler.get_job("feed:A") is None
        path.write_text("feeds: oops\n", encoding="utf-8")

        def refused() -> float:
            return metrics.registry().get_sample_value("monitor_config_reloads_total", {"result": "refused"}) or 0.0

        before = refused()
        wait_until(lambda: refused() > before, "the broken file refused")
        assert [f.name for f in daemon.pipeline.config.feeds] == ["B"]


def test_reload_swaps_the_fetcher_only_when_fetch_settings_change(tmp_path):
    from monitor.config.load import load_config

    path = tmp_path / "config.yaml"
    body = (
        "feeds: [{name: a, url: 'http://127.0.0.1:9/f'}]\n"
        "channels: {mail: 'mailto://127.0.0.1:9?from=a@example.com&to=b@example.com'}\n"
        "topics: [{id: t, name: T, any: [zzzz], notify: [mail]}]\nstorage: sqlite:///monitor.db\n"
    )
    path.write_text(body + "defaults: {timeout: 10s}\n", encoding="utf-8")
    config = load_config(path, env={})
    store = Store(config.storage_url)
    made: list[Fetcher] = []

    def make_fetcher(c):
        made.append(Fetcher(timeout=c.defaults.timeout, user_agent=c.defaults.user_agent))
        return made[-1]

    first = Fetcher(timeout=10, user_agent="x")
    daemon = Daemon(
        Pipeline(config, store, first),
        load=lambda: load_config(path, env={}),
        make_fetcher=make_fetcher,
        notifier=Notifier({}),
    )
    daemon.start()
    try:
        assert daemon.scheduler.get_job("feed:a").trigger.interval.total_seconds() == 600
        path.write_text(
            body.replace("any: [zzzz]", "any: [zzzz, yyyy]").replace("f'}]", "f', interval: 90s}]")
            + "defaults: {timeout: 10s}\n"
        )
        assert daemon.reload() and daemon.pipeline.fetcher is first and not made
        assert daemon.pipeline.config.topics[0].any == ["zzzz", "yyyy"]
        assert daemon.scheduler.get_job("feed:a").trigger.interval.total_seconds() == 90  # rescheduled
        path.write_text(body + "defaults: {timeout: 20s}\n")
        assert daemon.reload() and daemon.pipeline.fetcher is made[0]
        path.write_text(
            body.replace("storage: sqlite:///monitor.db", "storage: sqlite:///other.db") + "defaults: {timeout: 20s}\n"
        )
        assert daemon.reload()  # accepted, but the open store stays (a restart is needed)
        assert daemon.pipeline.config.storage_url == config.storage_url
    finally:
        assert daemon.stop()
        first.close()
        store.close()
    assert made[0]._client.is_closed  # fetchers made on reload are closed by the daemon
