"""`monitor run` as systemd runs it: a real process, a real NOTIFY_SOCKET, SIGHUP and SIGTERM.

The daemon polls local feeds every second. A SIGHUP with a new config must drop a
removed feed, poll an added one and match its articles with the new topics; a SIGHUP
with a broken config must be refused while the old config keeps running; SIGTERM must
send STOPPING=1, exit 0 and leave a store that passes PRAGMA integrity_check.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.service_helpers import SAFETY, NotifySocket, articles, distinguishing_term, serve_feed, wait_until

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path: Path, config: dict) -> None:
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def notify_socket():
    sock = NotifySocket()
    yield sock
    sock.close()


def start(config: Path, notify: NotifySocket, **env_extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "NOTIFY_", "WATCHDOG_"))}
    env.update(TG_TOKEN=TOKEN, PYTHONPATH=str(ROOT), NOTIFY_SOCKET=notify.address, **env_extra)
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=config.parent,
    )


def test_reload_and_stop_under_a_real_notify_socket(tmp_path, web_server, fake_telegram_unpatched, notify_socket):
    web, telegram = web_server, fake_telegram_unpatched
    a_articles, b_articles = articles("2015-07-21", 0, 3), articles("2015-07-22", 0, 2)
    serve_feed(web, "/a.xml", a_articles)
    b_urls = serve_feed(web, "/b.xml", b_articles)
    term = distinguishing_term(b_articles[0], a_articles + b_articles[1:])
    port = free_port()
    base = {
        "storage": "sqlite:///monitor.db",
        "defaults": {"interval": 1, "jitter": 0, "timeout": "10s"},
        "notify": {"telegram_api_url": telegram.base_url},
        "fetch": {"allow_private_networks": True},  # the test servers listen on 127.0.0.1
        "http": {"listen": f"127.0.0.1:{port}"},
        "channels": {"telegram": "tgram://${TG_TOKEN}/987654"},
    }
    config = tmp_path / "config.yaml"
    write(
        config,
        {
            **base,
            "feeds": [{"name": "A", "url": web.url("/a.xml")}],
            "topics": [{"id": "old", "name": "Old", "any": [term], "min_score": 0, "notify": ["telegram"]}],
        },
    )
    proc = start(config, notify_socket)
    try:
        ready = notify_socket.wait_for("READY")
        assert "1 feeds" in ready.get("STATUS", "")
        wait_until(lambda: len(web.requests_for("/a.xml")) >= 2, "feed A polled twice")
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["ready"] is True

        # Reload: A removed, B added, topic "old" replaced by "new" with the same term.
        write(
            config,
            {
                **base,
                "feeds": [{"name": "B", "url": web.url("/b.xml")}],
                "topics": [{"id": "new", "name": "New", "any": [term], "min_score": 0, "notify": ["telegram"]}],
            },
        )
        proc.send_signal(signal.SIGHUP)
        reloading = notify_socket.wait_for("RELOADING")
        assert int(reloading["MONOTONIC_USEC"]) > 0
        notify_socket.wait_for("READY", n=2)
        wait_until(lambda: len(web.requests_for("/b.xml")) >= 3, "feed B polled three times")
        a_polls = len(web.requests_for("/a.xml"))
        wait_until(lambda: len(web.requests_for("/b.xml")) >= 6, "feed B polled six times")
        assert len(web.requests_for("/a.xml")) == a_polls  # the removed feed is no longer polled
        wait_until(lambda: telegram.messages, "the alert for feed B's article")
        assert [m for m in telegram.messages if b_urls[0] in m.text]
        assert not [m for m in telegram.messages if b_urls[1] in m.text]

        # `monitor status` asks the running daemon's /healthz.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "NOTIFY_", "WATCHDOG_"))}
        status = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "status"],
            capture_output=True,
            text=True,
            timeout=SAFETY,
            cwd=tmp_path,
            env={**env, "TG_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        )
        assert status.returncode == 0, status.stderr
        assert f"daemon: ok (ok) at http://127.0.0.1:{port}/healthz" in status.stdout
        assert "feeds: 1 healthy, 0 failing, 0 not polled yet" in status.stdout  # A is shown as not in config
        assert "(not in config)" in status.stdout

        # An invalid config is refused; the running one goes on.
        config.write_text("feeds: []\ntopics: nope\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        notify_socket.wait_for("READY", n=3)
        b_polls = len(web.requests_for("/b.xml"))
        wait_until(lambda: len(web.requests_for("/b.xml")) >= b_polls + 2, "feed B still polled")
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'monitor_config_reloads_total{result="ok"} 1.0' in metrics
        assert 'monitor_config_reloads_total{result="refused"} 1.0' in metrics
        assert 'monitor_polls_total{feed="B",result="ok"}' in metrics
        assert 'monitor_matches_total{topic="new"} 1.0' in metrics
        assert 'monitor_alerts_total{channel="telegram",outcome="sent"} 1.0' in metrics
        assert "monitor_outbox_pending 0.0" in metrics
        assert "monitor_poll_duration_seconds_bucket" in metrics
        body = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
        assert body["status"] == "ok" and body["outbox_pending"] == 0 and body["feeds"] == 1
        assert body["last_successful_poll_age_seconds"] is not None

        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=SAFETY)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert notify_socket.count("STOPPING") == 1
    assert "reload refused" in err and "feeds: must not be empty" in err
    assert TOKEN not in err + out
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        topics = {row[0] for row in db.execute("SELECT topic_id FROM matches")}
    assert topics == {"new"}  # feed A's articles never matched "old"; B's matched the new topic


def test_http_listener_that_cannot_bind_is_a_startup_error(tmp_path, web_server, notify_socket):
    serve_feed(web_server, "/a.xml", articles("2015-07-21", 0, 1))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = tmp_path / "config.yaml"
        write(
            config,
            {
                "storage": "sqlite:///monitor.db",
                "http": {"listen": f"127.0.0.1:{taken.getsockname()[1]}"},
                "channels": {"mail": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
                "feeds": [{"name": "A", "url": web_server.url("/a.xml")}],
                "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": ["mail"]}],
            },
        )
        proc = start(config, notify_socket)
        out, err = proc.communicate(timeout=SAFETY)
    assert proc.returncode == 1, err
    assert "cannot listen on" in err
    assert notify_socket.count("READY") == 0


# ---- issue 12, loss 8: a config saved as windows-1256 or UTF-16, as older Arabic editors do ----
TOPIC_AR = "الاتفاق النووي الإيراني"  # the F2-09 field case's topic name (tests/fixtures/field-cases)


@pytest.mark.parametrize("encoding", ["cp1256", "utf-16", "utf-16-le"])
def test_a_config_saved_in_a_legacy_encoding_is_refused_once_and_the_old_one_runs(
    tmp_path, web_server, notify_socket, encoding
):
    """Saved over the running config (reload_on_change) and then SIGHUP'd: `monitor run` keeps
    running the old config, refuses the file once (no retry loop, one log of it), and says to
    save it as UTF-8."""
    web = web_server
    serve_feed(web, "/a.xml", articles("2015-07-21", 0, 2))
    port = free_port()
    body = {
        "storage": "sqlite:///monitor.db",
        "reload_on_change": True,
        "defaults": {"interval": 1, "jitter": 0, "timeout": "10s"},
        "fetch": {"allow_private_networks": True},
        "http": {"listen": f"127.0.0.1:{port}"},
        "channels": {"mail": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
        "feeds": [{"name": "A", "url": web.url("/a.xml")}],
        "topics": [{"id": "iran", "name": TOPIC_AR, "any": ["zzzz"], "notify": ["mail"]}],
    }
    config = tmp_path / "config.yaml"
    write(config, body)
    proc = start(config, notify_socket)

    def refused() -> float:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        line = [x for x in text.splitlines() if x.startswith('monitor_config_reloads_total{result="refused"}')]
        return float(line[0].split()[-1]) if line else 0.0

    try:
        notify_socket.wait_for("READY")
        wait_until(lambda: web.requests_for("/a.xml"), "feed A polled")
        text = yaml.safe_dump({**body, "feeds": [{"name": "B", "url": web.url("/b.xml")}]}, allow_unicode=True)
        config.write_bytes(text.encode(encoding))  # a saved edit, in the editor's encoding
        wait_until(lambda: refused() == 1, "the file refused once it settled")
        polls = len(web.requests_for("/a.xml"))
        wait_until(lambda: len(web.requests_for("/a.xml")) >= polls + 4, "feed A still polled (old config)")
        assert refused() == 1  # not retried while the same bad file stays
        proc.send_signal(signal.SIGHUP)  # the operator asks again: one short line, still the old config
        polls = len(web.requests_for("/a.xml"))
        wait_until(lambda: len(web.requests_for("/a.xml")) >= polls + 2, "feed A polled after the SIGHUP")
        assert proc.poll() is None and not web.requests_for("/b.xml")
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
        assert health["status"] == "ok" and health["feeds"] == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=SAFETY)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert err.count("save it as UTF-8") == 1 and "Traceback" not in err
    assert err.count("reload skipped") == 1
