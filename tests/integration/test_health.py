"""Store summaries (SQLite and PostgreSQL), pipeline metrics, the listen address, credentials."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import metrics
from monitor.config.credentials import environment
from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store, stats
from tests.support.service_helpers import articles, serve_feed
from tests.support.store_rows import save_sample
from tests.support.web import Response

ROOT = Path(__file__).resolve().parents[2]
UTC = UTC


def test_backlog_and_summaries(store):
    assert stats.backlog(store) == stats.Backlog(0, 0, 0, None, 0)
    assert stats.last_success(store) is None
    stats.ping(store)
    save_sample(store, "https://ex.com/a/1", guid="g1")  # one match, alerts to tg and mail
    save_sample(store, "https://ex.com/a/2", guid="g2")
    alerts = store.due_alerts(datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(hours=1)
    store.mark_failed(alerts[0].id, "HTTP 502", later)
    store.mark_dead(alerts[1].id, "chat not found")
    store.mark_sent(alerts[2].id, datetime.now(UTC))
    store.record_fetch_failure(
        feed="f1", url="https://ex.com/a/3", url_key="https://ex.com/a/3", guid="g3", title="t", error="timed out"
    )
    store.record_feed_success("f1", "https://ex.com/feed", etag=None, last_modified=None, new_items=2)
    store.record_feed_failure("f2", "https://ex.com/feed2", "HTTP 500")

    b = stats.backlog(store, datetime.now(UTC) + timedelta(seconds=5))
    assert (b.pending, b.due, b.dead, b.articles_retrying) == (2, 1, 1, 1)  # one backing off
    assert 5 <= b.oldest_pending_age < 600
    assert stats.backlog(store, later + timedelta(seconds=1)).due == 2
    assert abs((datetime.now(UTC) - stats.last_success(store)).total_seconds()) < 600
    midnight = datetime.now(UTC) - timedelta(hours=1)
    assert stats.matches_by_topic(store, midnight) == {"t1": 2}
    assert stats.matches_by_topic(store, datetime.now(UTC) + timedelta(hours=1)) == {}
    errors = stats.alert_errors(store)
    assert {(e.status, e.error) for e in errors} == {("pending", "HTTP 502"), ("dead", "chat not found")}


def _value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_pipeline_events_feed_the_counters(tmp_path, web_server):
    web = web_server
    arts = articles("2015-07-23", 0, 3)
    urls = serve_feed(web, "/m.xml", arts)
    web.routes[urls[1].removeprefix(web.base_url)] = Response(404, b"gone")  # page fails: summary later
    web.routes["/down.xml"] = Response(503, b"down")
    text = (
        f"storage: sqlite:///{tmp_path / 'm.db'}\ndefaults: {{backfill: 'off'}}\nfetch: {{allow_private_networks: true}}\nfeeds:\n  - {{name: M, url: '{web.url('/m.xml')}'}}\n"
        f"  - {{name: Down, url: '{web.url('/down.xml')}'}}\n"
        "channels: {mail: 'mailto://127.0.0.1:9?from=a@example.com&to=b@example.com'}\n"
        f"topics: [{{id: metric-t, name: T, any: ['{arts[0]['title'].split()[0]}'], min_score: 0, notify: [mail]}}]\n"
    )
    config = parse_config(text, path=tmp_path / "config.yaml", env={})
    ok0 = _value("monitor_polls_total", feed="M", result="ok")
    err0 = _value("monitor_errors_total", feed="Down", stage="feed")
    page0 = _value("monitor_errors_total", feed="M", stage="page")
    art0 = _value("monitor_articles_total", feed="M", source="page")
    hist0 = _value("monitor_poll_duration_seconds_count")
    store, fetcher = Store(config.storage_url), Fetcher.from_config(config)
    try:
        p = Pipeline(config, store, fetcher)
        for feed in config.feeds:
            p.poll_feed(feed)
    finally:
        fetcher.close()
        store.close()
    assert _value("monitor_polls_total", feed="M", result="ok") == ok0 + 1
    assert _value("monitor_polls_total", feed="Down", result="error") >= 1
    assert _value("monitor_errors_total", feed="Down", stage="feed") == err0 + 1
    assert _value("monitor_errors_total", feed="M", stage="page") == page0 + 1
    assert _value("monitor_articles_total", feed="M", source="page") == art0 + 2
    assert _value("monitor_poll_duration_seconds_count") == hist0 + 2
    assert _value("monitor_matches_total", topic="metric-t") >= 1


def test_credentials_fill_config_variables(tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "TG_TOKEN").write_text("123456:CREDENTIALtokenVALUEabcdefghijk\n")
    (creds / "not-a-name").write_text("ignored")
    env = environment({"CREDENTIALS_DIRECTORY": str(creds), "OTHER": "1"})
    assert env["TG_TOKEN"] == "123456:CREDENTIALtokenVALUEabcdefghijk" and "not-a-name" not in env
    assert environment({"CREDENTIALS_DIRECTORY": str(creds), "TG_TOKEN": "from-env"})["TG_TOKEN"] == "from-env"
    config = tmp_path / "config.yaml"
    config.write_text(
        "feeds: [{name: a, url: 'http://x.example/f'}]\nchannels: {tg: 'tgram://${TG_TOKEN}/1'}\n"
        "topics: [{id: t, name: T, any: [x], notify: [tg]}]\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "check"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CREDENTIALS_DIRECTORY": str(creds)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "CREDENTIALtoken" not in run.stdout + run.stderr
