"""The service around the daemon: the systemd unit's hardening, a SIGKILL mid-work, `monitor status`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.service_helpers import SAFETY, articles, serve_feed, wait_until
from tests.support.web import Response

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "monitor.service"
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def exposure(unit: Path) -> float:
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=100", str(unit)],
        capture_output=True,
        text=True,
        timeout=SAFETY,
    )
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", out.stdout + out.stderr)
    assert m, out.stdout + out.stderr
    return float(m.group(1))


def test_unit_is_type_notify_with_watchdog_reload_and_restart():
    unit = UNIT.read_text()
    for line in (
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "RestartPreventExitStatus=2",
        "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "LoadCredential=",
    ):
        assert line in unit, line
    stop_bound = float(re.search(r"^TimeoutStopSec=(\d+)", unit, re.M).group(1))
    from monitor.service.daemon import STOP_TIMEOUT

    assert STOP_TIMEOUT < stop_bound  # our own bound is hit first, never systemd's SIGKILL


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (Debian: apt-get install systemd)"
)
def test_systemd_analyze_security_exposure_is_at_most_2(tmp_path):
    unit = tmp_path / "monitor.service"
    shutil.copy(UNIT, unit)
    score = exposure(unit)
    assert score <= 2.0, f"exposure {score}"
    # Every directive is known to this systemd (only the not-yet-installed binary is missing).
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=SAFETY)
    problems = [
        line
        for line in (verify.stdout + verify.stderr).splitlines()
        if line.strip() and "/opt/monitor/bin/monitor" not in line
    ]
    assert not problems, problems
    # The same check scores an unhardened unit as exposed, so it can fail.
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nType=notify\nExecStart=/opt/monitor/bin/monitor run\n")
    assert exposure(bare) >= 9.0


def run_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "NOTIFY_", "WATCHDOG_"))}
    env.update(TG_TOKEN=TOKEN, PYTHONPATH=str(ROOT), COLUMNS="200")
    return env


def monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=run_env(),
        timeout=SAFETY,
        cwd=config.parent,
    )


def stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM articles WHERE status='done'").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_sigkill_mid_work_leaves_a_consistent_store_and_status_reports_it(
    tmp_path, web_server, fake_telegram_unpatched
):
    web = web_server
    n_feeds, per_feed = 4, 6
    for i in range(n_feeds):  # slow pages, so the kill lands while articles are being stored
        serve_feed(web, f"/f{i}.xml", articles("2015-07-21", i * per_feed, per_feed), delay=0.3)
    web.routes["/broken.xml"] = Response(500, b"down for maintenance")
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": "sqlite:///monitor.db",
                "defaults": {"interval": 3600, "timeout": "10s"},
                "notify": {"telegram_api_url": fake_telegram_unpatched.base_url},
                "fetch": {"allow_private_networks": True},  # the test servers listen on 127.0.0.1
                "channels": {"telegram": "tgram://${TG_TOKEN}/987654"},
                "feeds": [{"name": f"Feed {i}", "url": web.url(f"/f{i}.xml")} for i in range(n_feeds)]
                + [{"name": "Broken", "url": web.url("/broken.xml")}],
                "topics": [
                    {
                        "id": "saudi",
                        "name": "Saudi",
                        "any": ["السعودية", "الرياض"],
                        "min_score": 0,
                        "notify": ["telegram"],
                    },
                    {"id": "never", "name": "Never", "any": ["zzzzqqq"], "notify": ["telegram"]},
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    db = tmp_path / "monitor.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=run_env(),
        cwd=tmp_path,
    )
    try:
        wait_until(lambda: stored(db) >= 3, "a few articles stored")
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=SAFETY)
    killed_at = stored(db)
    assert killed_at < n_feeds * per_feed, "the kill came too late to test anything"

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # Article, matches and alerts are written together: no match without its alert.
        orphan = conn.execute(
            "SELECT count(*) FROM matches m WHERE NOT EXISTS (SELECT 1 FROM alerts a "
            "WHERE a.article_id = m.article_id AND a.topic_id = m.topic_id)"
        ).fetchone()[0]
        assert orphan == 0

    again = monitor(config, "once")
    assert again.returncode == 0, again.stderr
    assert stored(db) == n_feeds * per_feed
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        matched = conn.execute("SELECT count(*) FROM matches WHERE topic_id='saudi'").fetchone()[0]
        sent = conn.execute("SELECT count(*) FROM alerts WHERE status='sent'").fetchone()[0]
    assert matched > 0 and sent == matched
    assert len(fake_telegram_unpatched.messages) == matched  # one message per match: none lost, none twice

    status = monitor(config, "status")
    assert status.returncode == 0, status.stderr
    out = status.stdout
    for name in [f"Feed {i}" for i in range(n_feeds)] + ["Broken"]:
        assert name in out
    assert "failing ×" in out and "HTTP 500" in out
    assert f"feeds: {n_feeds} healthy, 1 failing, 0 not polled yet" in out
    assert re.search(rf"matches today: .*\bsaudi {matched}\b", out), out  # one line (fits 80x24)
    assert re.search(r"matches today: .*\bnever 0\b", out), out
    assert f"alerts: 0 pending (0 due now, oldest -), {sent} sent, 0 dead" in out
    assert "last errors" in out and "feed Broken" in out
    assert "unknown (no http.listen" in out
    assert TOKEN not in out + status.stderr
