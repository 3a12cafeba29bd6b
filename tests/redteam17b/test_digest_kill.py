"""redteam17b: a quiet-hours digest on a 3-node cluster: exactly one digest when the quiet
hours end, and with the node sending it killed (-9) mid-send, at most one more.

Public reports of the kind: pretix/pretix#2058 (a bulk mail job run again while the first run
was still sending), procrastinate-org/procrastinate#1408 (periodic work stalled with its node).
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from tests.redteam17b.test_frozen_sender import holder
from tests.support.cluster import cluster_config, covering_terms, node_logs, site, start_node, stop_nodes
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import SAFETY, wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

NODES = 3


@pytest.mark.parametrize("kill", [False, True], ids=["no-kill", "kill-the-sender"])
def test_one_digest_per_quiet_hours_end(tmp_path, web_server, fake_telegram_unpatched, kill):
    web, telegram = web_server, fake_telegram_unpatched
    arts, _per_feed, pages = site(web, 2)
    end = (datetime.now(UTC) + timedelta(seconds=100)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(hours=2)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(2)]
        config = cluster_config(
            tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, cluster_stall_after="4s"
        )
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["channels"]["telegram"].update(timezone="UTC", quiet_hours=f"{start:%H:%M}-{end:%H:%M}")
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(NODES)]
        kills = 0
        try:
            wait_until(lambda: "feed polled feed=F1" in node_logs(tmp_path, NODES), "the polls")
            assert not telegram.calls, "an alert went out in the quiet hours"
            if kill:
                telegram.queue(TelegramReply.slow(6.0))
            wait_until(lambda: telegram.calls, "the digest", timeout=SAFETY + 120)
            if kill:
                victim = nodes[int(wait_until(lambda: holder(db, tmp_path, NODES), "the digest's sender"))]
                victim.send_signal(signal.SIGKILL)
                victim.wait(SAFETY)
                kills += 1
            wait_until(lambda: any(pages[0] in m.text for m in telegram.messages), "a digest received")
            time.sleep(15)
        finally:
            stop_nodes(nodes)
        digests = [m for m in telegram.messages if pages[0] in m.text]
        for p in pages:
            assert any(p in m.text for m in digests), f"{p} missing from the digest"
        assert 1 <= len(digests) <= 1 + kills, f"{len(digests)} digests, {kills} kills"
