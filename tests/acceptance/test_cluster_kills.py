"""Cluster mode under kills (issue 17; red team 17b): a SIGKILL storm on a 3-node cluster
ending with every node killed and the cluster restarted, and a quiet-hours digest whose
sender is killed mid-send. Nothing lost, at most one duplicate per kill (one extra digest
per kill), each page fetched again at most once per kill. Seeded, so a failure replays.

Public reports of the kind (rebuilt, no text copied): procrastinate-org/procrastinate#307
(jobs of a SIGKILLed worker left "doing" for ever), procrastinate-org/procrastinate#1408 (the
stalled-job retrier itself stalled: everything stops), pretix/pretix#2058 (a bulk mail job
run again while the first run was still sending).
"""

from __future__ import annotations

import random
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from tests.support.cluster import (
    alerts,
    cluster_config,
    covering_terms,
    grow,
    job_holder,
    node_logs,
    site,
    start_node,
    stop_nodes,
)
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import SAFETY, wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

FEEDS, NODES = 4, 3


@pytest.mark.parametrize("seed", [17, 1717])
def test_sigkill_storm_then_all_killed_and_restarted(tmp_path, web_server, fake_telegram_unpatched, seed):
    web, telegram = web_server, fake_telegram_unpatched
    rng = random.Random(seed)
    arts, per_feed, first_pages = site(web, FEEDS)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(FEEDS)]
        config = cluster_config(
            tmp_path / "config.yaml", db, feeds, covering_terms(arts), telegram.base_url, cluster_stall_after="3s"
        )
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(NODES)]
        everyone = list(nodes)
        kills = 0
        try:
            pages = grow(web, per_feed)  # new items arrive while the storm goes on
            for _ in range(6):
                time.sleep(rng.uniform(0.2, 1.5))
                i = rng.randrange(NODES)
                nodes[i].send_signal(signal.SIGKILL)
                nodes[i].wait(SAFETY)
                kills += 1
                nodes[i] = start_node(config, f"n{i}", tmp_path / f"n{i}.log")
                everyone.append(nodes[i])
            time.sleep(rng.uniform(0.5, 1.5))
            for p in nodes:  # every node at once
                p.send_signal(signal.SIGKILL)
                p.wait(SAFETY)
                kills += 1
            nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(NODES)]
            everyone += nodes
            wait_until(lambda: set(alerts(telegram, pages)) == set(pages), "every alert after the storm")
            time.sleep(8)
            alive = [p.poll() for p in nodes]
        finally:
            stop_nodes(everyone)
        logs = node_logs(tmp_path, NODES)
        assert alive == [None] * NODES, logs[-3000:]
        got = alerts(telegram, pages)
        dups = sum(n - 1 for n in got.values())
        assert dups <= kills, f"{kills} kills, {dups} duplicates: {got}"
        fetched = [len(web.requests_for(p.split(str(web.port), 1)[1])) for p in pages]
        print(
            f"seed={seed} kills={kills} alerts={sum(got.values())} pages={len(pages)} duplicates={dups} "
            f"fetches={sum(fetched)}"
        )
        assert sum(f - 1 for f in fetched) <= kills, f"{kills} kills, fetches {fetched}"


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
                victim = nodes[int(wait_until(lambda: job_holder(db, tmp_path, NODES), "the digest's sender"))]
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
