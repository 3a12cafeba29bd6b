"""`monitor outbox` and `monitor outbox retry ID` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import yaml

from monitor.storage import Store
from tests.support.outbox_helpers import add_article, corpus, make_config

ROOT = Path(__file__).resolve().parents[2]


def _monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_outbox_lists_and_requeues(tmp_path):
    channels = {"tg": "tgram://123456:AAHsecretTOKENvalue_-xyz/111"}
    config = make_config(tmp_path, channels)
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "storage": config.storage_url,
                "feeds": [{"name": "F", "url": "http://127.0.0.1:9/feed"}],
                "channels": channels,
                "topics": [{"id": "t", "name": "كوريا", "any": ["كوريا"], "notify": ["tg"]}],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    store = Store(config.storage_url)
    rows = corpus()[:3]
    for row in rows:
        add_article(store, config, row)
    pending, retrying, dead = store.list_alerts()[::-1]
    from datetime import datetime, timedelta

    store.mark_failed(retrying.id, "tgram: Bad Gateway, error=502", datetime.now(UTC) + timedelta(minutes=5))
    store.mark_dead(dead.id, "tgram: Bad Request: chat not found, error=400")
    store.close()

    out = _monitor(tmp_path / "config.yaml", "outbox")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    row = {int(line.split()[0]): line.split()[1] for line in lines[1:] if line.split()[0].isdigit()}
    assert row == {pending.id: "pending", retrying.id: "retrying", dead.id: "dead"}
    assert "chat not found" in out.stdout and "Bad Gateway" in out.stdout
    assert "AAHsecretTOKENvalue" not in out.stdout + out.stderr
    assert "total: pending=2 sent=0 dead=1" in out.stdout

    only_dead = _monitor(tmp_path / "config.yaml", "outbox", "--state", "dead")
    assert [ln.split()[0] for ln in only_dead.stdout.splitlines()[1:] if ln.split()[0].isdigit()] == [str(dead.id)]

    retry = _monitor(tmp_path / "config.yaml", "outbox", "retry", str(dead.id))
    assert retry.returncode == 0 and f"alert {dead.id}: re-queued" in retry.stdout
    again = _monitor(tmp_path / "config.yaml", "outbox", "retry", str(dead.id), "99999")
    assert again.returncode == 1 and "not dead" in again.stderr and "no such alert" in again.stderr
    store = Store(config.storage_url)
    try:
        requeued = store.get_alert(dead.id)
        assert requeued.status == "pending" and requeued.attempts == 0
    finally:
        store.close()
