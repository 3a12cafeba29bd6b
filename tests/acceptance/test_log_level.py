"""Issue 18 (red team 18): the log level in any case, from `--log-level` or
MONITOR_LOG_LEVEL (as typed in a systemd EnvironmentFile); an unknown one is a usage error
(exit 2), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.site import ROOT

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
CONFIG = (
    "storage: sqlite:///m.db\nfeeds:\n  - name: A\n    url: https://example.org/a.xml\n"
    "channels:\n  telegram: tgram://${TG}/1\n"
    "topics:\n  - id: t1\n    name: T1\n    any: [روسيا]\n    notify: telegram\n"
)


def monitor(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    base.update(env, TG=TOKEN, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], capture_output=True, text=True, env=base, cwd=cwd, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "env", "code"),
    [
        ((), {"MONITOR_LOG_LEVEL": "debug"}, 0),  # systemd EnvironmentFile, lowercase
        ((), {"MONITOR_LOG_LEVEL": " Debug "}, 0),
        (("--log-level", "warning"), {}, 0),
        (("--log-level", "debug"), {"MONITOR_LOG_LEVEL": "error"}, 0),  # the option wins
        ((), {"MONITOR_LOG_LEVEL": "verbose"}, 2),  # unknown: usage error
        ((), {"MONITOR_LOG_LEVEL": "WARN"}, 2),
        (("--log-level", "loud"), {}, 2),
    ],
)
def test_log_level_in_any_case_and_unknown_is_a_usage_error(tmp_path, args, env, code):
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    result = monitor(tmp_path, "topics", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr[-600:]
    assert result.returncode == code, result.stderr
    if code == 2:
        assert "DEBUG, INFO, WARNING, ERROR" in result.stderr or "invalid choice" in result.stderr
