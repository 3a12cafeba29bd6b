"""Red team 17d: `monitor once` run against a live cluster's store (issue 17), with a real
`monitor run` node on the real PostgreSQL.

#8 -- README: "`monitor once` does not take the cluster's locks ...: against a running
cluster's store it can poll a feed or send an alert a node is handling too, so use it with
the nodes stopped" -- but nothing checked: a `monitor once` left in cron from single-node
days (README's own first set-up) sent, beside a live node, the alert that node had in
flight: a duplicate per run. Same kind as https://github.com/celery/celery/issues/2046
(a second worker under a setting that should be unique: only a warning, the harm done) and
procrastinate's own rule that only workers take jobs. Fixed: `monitor once` with
`cluster: true` refuses (exit 2, naming the live nodes) while a node is alive; `--dry-run`
still runs (it sends nothing).
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml

from tests.support.cluster import alerts, cluster_config, covering_terms, node_env, sql, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import SAFETY, articles, serve_feed, wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

IN_FLIGHT = 8.0  # seconds the Bot API takes to answer the node's send


def _sent(db: str) -> bool:
    rows = sql(db, "SELECT count(*) FROM alerts WHERE status = 'sent'")
    return bool(rows and rows[0][0])


def test_once_beside_a_live_node_sends_no_duplicate(tmp_path, web_server, fake_telegram_unpatched):
    web, telegram = web_server, fake_telegram_unpatched
    arts = articles("2015-07-21", 0, 1)
    pages = serve_feed(web, "/f.xml", arts)
    telegram.queue(TelegramReply.slow(IN_FLIGHT))  # the node's send is in flight a while
    with fresh_pg_database() as db:
        config = cluster_config(
            tmp_path / "config.yaml", db, [("F", web.url("/f.xml"))], covering_terms(arts), telegram.base_url
        )
        body = yaml.safe_load(config.read_text(encoding="utf-8"))
        body["channels"]["telegram"]["urls"] += "?rto=30"  # apprise waits 30 s for the answer (default 4 s)
        config.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
        nodes = [start_node(config, "n0", tmp_path / "n0.log")]
        try:
            wait_until(lambda: alerts(telegram, pages), "the node's send in flight")
            once = subprocess.run(
                [sys.executable, "-m", "monitor", "--config", str(config), "once"],
                capture_output=True,
                text=True,
                env=node_env("once"),
                cwd=tmp_path,
                timeout=SAFETY,
            )
            wait_until(lambda: _sent(db), "the node's send answered and recorded")
            time.sleep(3)  # a late copy would show up now
        finally:
            stop_nodes(nodes)
    got = alerts(telegram, pages)
    assert got[pages[0]] == 1, f"{got[pages[0]]} copies; once said: {once.stdout}{once.stderr}"
    assert once.returncode == 2 and "n0" in once.stderr, once.stdout + once.stderr
