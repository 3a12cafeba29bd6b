"""Issue 18, "the first hour of a new user": the CLI as a user runs it (subprocess, real files)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from monitor.storage import Store
from tests.support.outbox_helpers import add_article, corpus, make_config
from tests.support.web import Response, WebServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "tgram://123456:AAHsecretTOKENvalue_-xyz/111"


def monitor(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    """`python -m monitor ARGS` with a clean environment (no MONITOR_*), like a user's shell."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=300,  # a hang guard, not a speed check
        **kw,  # type: ignore[arg-type]
    )


def write_config(tmp_path: Path, feeds: list[dict], **extra: object) -> Path:
    data = {
        "storage": f"sqlite:///{tmp_path / 'monitor.db'}",
        "fetch": {"allow_private_networks": True},
        "feeds": feeds,
        "channels": {"tg": TOKEN_URL},
        "topics": [{"id": "korea", "name": "كوريا", "any": ["كوريا"], "notify": ["tg"]}],
        **extra,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


DEAD = "http://127.0.0.1:9/feed.xml"  # the discard port: connection refused


# ---- item 2: global options after the verb ----------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--config", "{c}"],
        ["check", "--config", "{c}", "--log-level", "DEBUG"],
        ["--config", "/nonexistent.yaml", "check", "--config", "{c}"],
        ["feeds", "list", "--config", "{c}"],
        ["topics", "--log-level", "WARNING", "--config", "{c}"],
    ],
)
def test_global_options_are_taken_before_or_after_the_verb(tmp_path, argv):
    config = write_config(tmp_path, [{"name": "F", "url": DEAD}])
    out = monitor(*[a.format(c=config) for a in argv])
    assert out.returncode == 0, out.stderr


def test_option_before_the_verb_is_not_overwritten_by_the_verbs_default(tmp_path):
    config = write_config(tmp_path, [{"name": "F", "url": DEAD}])
    out = monitor("--config", str(config), "--log-level", "DEBUG", "feeds", "list")
    assert out.returncode == 0, out.stderr
    assert "F [rss]" in out.stdout


# ---- item 3: --version, -h, --feed, --json, topics ------------------------------------------


def test_version_and_help_on_verbs():
    out = monitor("--version")
    assert out.returncode == 0 and out.stdout.startswith("monitor ")
    for verb in (["once"], ["explain"], ["feeds", "import"], ["outbox"], ["stories"], ["topics"]):
        h = monitor(*verb, "-h")
        assert h.returncode == 0, (verb, h.stderr)
        assert "--config" in h.stdout and "--log-level" in h.stdout
        assert h.stdout.split("\n\n")[1].strip(), f"{verb}: -h shows no description"


def test_topics_and_json_outputs(tmp_path):
    config = write_config(tmp_path, [{"name": "F", "url": DEAD}, {"name": "G", "url": DEAD}])
    topics = monitor("topics", "--config", str(config))
    assert topics.returncode == 0 and "korea (كوريا): 1 terms" in topics.stdout
    rows = json.loads(monitor("topics", "--json", "--config", str(config)).stdout)
    assert rows[0]["id"] == "korea" and rows[0]["notify"] == ["tg"]
    feeds = json.loads(monitor("feeds", "--json", "--config", str(config)).stdout)
    assert [f["name"] for f in feeds] == ["F", "G"] and feeds[0]["polled"] is False
    feeds_list = json.loads(monitor("feeds", "--json", "list", "--config", str(config)).stdout)
    assert feeds_list == feeds
    status = json.loads(monitor("status", "--json", "--config", str(config)).stdout)
    assert {f["feed"] for f in status["feeds"]} == {"F", "G"} and status["outbox"]["pending"] == 0
    stories = monitor("stories", "--json", "--config", str(config))
    assert stories.returncode == 0 and json.loads(stories.stdout) == []
    outbox = monitor("outbox", "--json", "--config", str(config))
    assert outbox.returncode == 0 and json.loads(outbox.stdout) == []


def test_once_feed_filter_and_unknown_feed(tmp_path):
    with WebServer() as web:
        web.routes["/a.xml"] = Response(500, b"boom")
        config = write_config(tmp_path, [{"name": "BBC Arabic", "url": web.url("/a.xml")}, {"name": "G", "url": DEAD}])
        nope = monitor("once", "--feed", "BBC Arabc", "--config", str(config))
        assert nope.returncode == 2
        assert "unknown feed 'BBC Arabc' (did you mean 'BBC Arabic'?" in nope.stderr
        one = monitor("once", "--feed", "G", "--config", str(config))
        assert [ln.split(":")[0] for ln in one.stdout.splitlines()[:-1]] == ["G"]
        assert web.requests_for("/a.xml") == []


# ---- item 5: exit codes, Ctrl-C, | head -----------------------------------------------------


def test_once_exits_1_when_every_source_failed_and_0_when_one_worked(tmp_path):
    with WebServer() as web:
        rss = (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link>'
            b"<description>d</description></channel></rss>"
        )
        web.routes["/ok.xml"] = Response(200, rss, {"Content-Type": "application/rss+xml"})
        web.routes["/bad.xml"] = Response(503, b"down")
        dead = write_config(tmp_path, [{"name": "A", "url": DEAD}, {"name": "B", "url": web.url("/bad.xml")}])
        out = monitor("once", "--config", str(dead))
        assert out.returncode == 1, out.stdout + out.stderr
        assert "every source failed (2)" in out.stderr and "A: FAILED" in out.stdout
        mixed = write_config(tmp_path, [{"name": "A", "url": DEAD}, {"name": "C", "url": web.url("/ok.xml")}])
        out = monitor("once", "--config", str(mixed))
        assert out.returncode == 0, out.stdout + out.stderr


def test_ctrl_c_stops_once_without_waiting_for_a_hung_request(tmp_path):
    release = threading.Event()

    def hang(request):
        release.wait()
        return Response(200, b"")

    with WebServer() as web:
        web.routes["/slow.xml"] = hang
        config = write_config(tmp_path, [{"name": "slow", "url": web.url("/slow.xml")}])
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "once", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            while not web.requests_for("/slow.xml"):
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)  # hang guard: the request is still held open
            assert not release.is_set()
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err


@pytest.mark.parametrize("verb", [["topics"], ["feeds"], ["check"], ["status"]])
def test_closed_pipe_ends_quietly(tmp_path, verb):
    feeds = [{"name": f"feed {i}", "url": DEAD} for i in range(30)]
    config = write_config(tmp_path, feeds)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", *verb, "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # like `| head` that has read its lines: closed before we write
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


# ---- item 6: explain's target and --feed ----------------------------------------------------


def test_explain_names_the_problem_with_its_target(tmp_path):
    config = write_config(tmp_path, [{"name": "BBC Arabic", "url": DEAD}])
    missing = monitor("explain", str(tmp_path / "nope.html"), "--config", str(config))
    assert missing.returncode == 2 and "no such file" in missing.stderr and "http" in missing.stderr
    folder = monitor("explain", str(tmp_path), "--config", str(config))
    assert folder.returncode == 2 and "is a directory" in folder.stderr and "Traceback" not in folder.stderr
    page = tmp_path / "a.html"
    page.write_text("<html><body><p>x</p></body></html>")
    feed = monitor("explain", str(page), "--feed", "Nope", "--config", str(config))
    assert feed.returncode == 2 and "unknown feed 'Nope'" in feed.stderr and "BBC Arabic" in feed.stderr


# ---- item 15: status on 80x24; outbox retry --now -------------------------------------------


def test_status_fits_an_80_by_24_terminal(tmp_path):
    feeds = [{"name": f"Outlet number {i}", "url": f"http://127.0.0.1:9/{i}.xml"} for i in range(20)]
    config = write_config(tmp_path, feeds)
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    now = datetime.now(UTC)
    for i, feed in enumerate(feeds):
        if i % 4 == 0:
            error = f"HTTP 502 from {feed['url']}: " + "upstream said: bad gateway, try later " * 12
            store.record_feed_failure(feed["name"], feed["url"], error, now=now)
        else:
            store.record_feed_success(feed["name"], feed["url"], etag=None, last_modified=None, new_items=1, now=now)
    store.close()
    out = monitor("status", "--config", str(config), env={"COLUMNS": "80", "LINES": "24"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.rstrip("\n").splitlines()
    assert len(lines) <= 24, out.stdout
    assert max(len(line) for line in lines) <= 80, out.stdout
    assert "15 healthy" in out.stdout and "5 failing" in out.stdout and "status -v" in out.stdout
    full = monitor("status", "-v", "--config", str(config), env={"COLUMNS": "80", "LINES": "24"})
    assert full.stdout.count("Outlet num") >= 20, full.stdout


def test_outbox_retry_now_takes_a_retrying_alert(tmp_path):
    channels = {"tg": TOKEN_URL}
    config = make_config(tmp_path, channels)
    path = write_config(tmp_path, [{"name": "F", "url": DEAD}], storage=config.storage_url)
    store = Store(config.storage_url)
    for row in corpus()[:2]:
        add_article(store, config, row)
    retrying, pending = store.list_alerts()[::-1][:2]
    store.mark_failed(retrying.id, "tgram: Bad Gateway, error=502", datetime.now(UTC) + timedelta(hours=1))
    store.close()
    plain = monitor("outbox", "retry", str(retrying.id), "--config", str(path))
    assert plain.returncode == 1 and "--now" in plain.stderr
    now = monitor("outbox", "retry", str(retrying.id), "--now", "--config", str(path))
    assert now.returncode == 0 and "due now" in now.stdout, now.stderr
    not_retrying = monitor("outbox", "retry", str(pending.id), "--now", "--config", str(path))
    assert not_retrying.returncode == 1
    store = Store(config.storage_url)
    try:
        again = store.get_alert(retrying.id)
        assert again.next_attempt_at is None and again.attempts == 1 and again.status == "pending"
    finally:
        store.close()


# ---- item 16: logs -------------------------------------------------------------------------


def test_log_values_with_spaces_are_quoted(tmp_path):
    with WebServer() as web:
        web.routes["/bad.xml"] = Response(503, b"down")
        config = write_config(tmp_path, [{"name": "BBC Arabic", "url": web.url("/bad.xml")}])
        out = monitor("once", "--config", str(config), "--log-level", "DEBUG")
    assert 'feed="BBC Arabic"' in out.stderr, out.stderr
    assert "feed=BBC Arabic" not in out.stderr


# ---- item 17: feeds import -----------------------------------------------------------------

OPML = """<?xml version="1.0"?>
<opml version="2.0"><head><title>x</title></head><body>
<outline text="BBC again" type="rss" xmlUrl="http://www.feeds.bbci.co.uk/arabic/rss.xml"/>
<outline text="Broken" type="rss" xmlUrl="https://example.org/a feed.xml"/>
<outline text="RT Arabic" type="rss" xmlUrl="https://arabic.rt.com/rss/"/>
<outline text="RT twice" type="rss" xmlUrl="https://arabic.rt.com/rss/"/>
</body></opml>
"""


def test_feeds_import_continues_past_bad_entries_and_lists_the_skipped(tmp_path):
    config = write_config(tmp_path, [{"name": "BBC Arabic", "url": "https://feeds.bbci.co.uk/arabic/rss.xml"}])
    opml = tmp_path / "feeds.opml"
    opml.write_text(OPML, encoding="utf-8")
    before = config.read_text(encoding="utf-8")
    dry = monitor("feeds", "import", str(opml), "--dry-run", "--config", str(config))
    assert dry.returncode == 0
    assert "would add: RT Arabic: https://arabic.rt.com/rss/" in dry.stdout
    assert (
        "would skip: BBC again: http://www.feeds.bbci.co.uk/arabic/rss.xml (already in config as 'BBC Arabic')"
        in dry.stdout
    )
    # a space in an OPML URL is read as %20 (the OPML reader is lenient), so the entry is valid
    assert "would add: Broken: https://example.org/a%20feed.xml" in dry.stdout
    assert "would skip: RT twice:" in dry.stdout and "twice in this OPML file" in dry.stdout
    assert config.read_text(encoding="utf-8") == before
    real = monitor("feeds", "import", str(opml), "--config", str(config))
    assert real.returncode == 0 and "added: RT Arabic" in real.stdout and "2 added, 2 skipped of 4" in real.stdout
    assert "RT Arabic" in config.read_text(encoding="utf-8")
    assert monitor("check", "--config", str(config)).returncode == 0


def test_feeds_import_into_a_flow_style_list_says_so_before_adding_anything(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        f"storage: sqlite:///{tmp_path / 'm.db'}\n"
        "feeds: [{name: BBC Arabic, url: 'https://feeds.bbci.co.uk/arabic/rss.xml'}]\n"
        f"channels: {{tg: '{TOKEN_URL}'}}\n"
        "topics: [{id: korea, name: كوريا, any: [كوريا], notify: [tg]}]\n",
        encoding="utf-8",
    )
    opml = tmp_path / "feeds.opml"
    opml.write_text(OPML, encoding="utf-8")
    out = monitor("feeds", "import", str(opml), "--config", str(config))
    assert out.returncode == 2
    assert "added" not in out.stdout
    assert "config.yaml:2:" in out.stderr and "flow style" in out.stderr and "block list" in out.stderr
