"""Red-team reproductions for issue 18 ("the first hour of a new user"), each a plain
failing test that runs the CLI as a user does (subprocess, real files, the local fake Bot
API / SMTP / web servers of tests/support). One test per break; see the report of branch
redteam18 for the exact output seen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.site import ROOT

SECOND = {"any": ["~بيونغ يانغ", "كوريا الشمالية"], "min_score": 1}
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def edit(config: Path, change) -> Path:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    change(data)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def monitor(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m monitor ARGS` in `cwd` (config.yaml there), like a newcomer types it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    base.update(env or {}, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], capture_output=True, text=True, env=base, cwd=cwd, timeout=300
    )


def small_config(
    tmp_path: Path, topic: str, channel: str = "tgram://${TG}/1", feed_url: str = "https://example.org/a.xml"
) -> Path:
    (tmp_path / "config.yaml").write_text(
        "storage: sqlite:///m.db\n"
        "feeds:\n"
        "  - name: A\n"
        f"    url: {feed_url}\n"
        "channels:\n"
        f"  telegram: {channel}\n"
        "topics:\n"
        "  - id: t1\n"
        "    name: T1\n"
        f"{topic}"
        "    notify: telegram\n",
        encoding="utf-8",
    )
    return tmp_path


# ---- (a) one message per chat for an article matching several topics -----------------------


# ---- item 8: `monitor check` pitfalls ------------------------------------------------------


def test_check_warns_on_tilde_on_an_ordinary_word(tmp_path):
    """README: "on ordinary words these rules merge different words (زيارة / وزارة)"; `~زيارة`
    gets no warning (only words in >20% of articles count as common)."""
    cwd = small_config(tmp_path, "    any: [~زيارة]\n")
    result = monitor(cwd, "check", env={"TG": TOKEN})
    assert "warning" in result.stdout + result.stderr, result.stdout + result.stderr


def test_a_literal_hash_in_a_password_is_named_not_the_user_variable(tmp_path):
    """`mailtos://${SU}:Zq#9xK@host...`: the error blames `${SU}` ("in the URL's host part")
    and says the host is empty, instead of pointing at the literal `#` to encode as %23."""
    channel = "mailtos://${SU}:Zq#9xK@smtp.example.org:587?from=a@example.org&to=b@example.org"
    cwd = small_config(tmp_path, "    any: [روسيا]\n", channel=channel)
    result = monitor(cwd, "check", env={"SU": "ali@example.org"})
    assert result.returncode == 2
    assert "${SU}" not in result.stderr and "%23" in result.stderr, result.stderr


# ---- item 15 / 16 / 17 ---------------------------------------------------------------------


# ---- (c) link previews / operator notices ---------------------------------------------------


# ---- item 9: secrets with special characters -------------------------------------------------


# ---- item 15: status fits 80x24 -------------------------------------------------------------


# ---- item 16: logs ---------------------------------------------------------------------------


# ---- item 11: wildcard pitfalls ----------------------------------------------------------------


# ---- item 5: Ctrl-C ----------------------------------------------------------------------------


# ---- argument checks ---------------------------------------------------------------------------


# ---- item 4: secrets of other channels ---------------------------------------------------------


# ---- item 6: explain on files --------------------------------------------------------------------
