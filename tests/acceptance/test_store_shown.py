"""Issue 18 (red team 18): the startup line and `monitor check` name the store, only its
password (and key-like query values) masked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.site import ROOT

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def small_config(tmp_path: Path, feed_url: str = "https://example.org/a.xml") -> Path:
    (tmp_path / "config.yaml").write_text(
        "storage: sqlite:///m.db\nfeeds:\n  - name: A\n"
        f"    url: {feed_url}\n"
        "channels:\n  telegram: tgram://${TG}/1\n"
        "topics:\n  - id: t1\n    name: T1\n    any: [روسيا]\n    notify: telegram\n",
        encoding="utf-8",
    )
    return tmp_path


def monitor(cwd: Path, *args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    base.update(env or {}, TG=TOKEN, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        env=base,
        cwd=cwd,
        timeout=300,  # a hang guard, not a speed check
        **kw,  # type: ignore[arg-type]
    )


def test_the_startup_line_names_the_store(tmp_path):
    """Issue 18 item 16: "one startup line with version, config path and store": a plain
    `sqlite:///m.db` (no password in it) was masked whole (`store=***`)."""
    import signal
    import time

    cwd = small_config(tmp_path, feed_url="http://127.0.0.1:1/a.xml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env.update(TG=TOKEN, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not (cwd / "m.db").exists() and proc.poll() is None:
            time.sleep(0.2)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    start = [line for line in err.splitlines() if " start version=" in line]
    assert start, err
    assert "m.db" in start[0], start[0]


@pytest.mark.parametrize(
    ("store", "shown", "hidden"),
    [
        (None, "m.db", None),
        ("sqlite:////var/lib/monitor/monitor.db", "/var/lib/monitor/monitor.db", None),
        ("postgresql+psycopg://monitor:Pw7zQx@127.0.0.1:5432/test", "127.0.0.1:5432/test", "Pw7zQx"),
        ("postgresql+psycopg://monitor@127.0.0.1:5432/test?password=Pw7zQx", "127.0.0.1:5432/test", "Pw7zQx"),
    ],
)
def test_check_names_the_store_with_only_its_password_masked(tmp_path, store, shown, hidden):
    cwd = small_config(tmp_path)
    result = monitor(cwd, "check", env={"MONITOR_STORAGE": store} if store else {})
    assert result.returncode == 0, result.stderr
    [line] = [x for x in result.stdout.splitlines() if x.startswith("storage: ")]
    assert shown in line, line
    if hidden:
        assert hidden not in result.stdout + result.stderr
