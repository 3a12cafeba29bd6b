"""A control character in config.yaml (NUL after a power loss, a pasted terminal escape, a
C1 control) makes `monitor check` (the unit's ExecStartPre) and `monitor once` exit 2 with a
config error naming the line, never a traceback and exit 1 (systemd would restart in a loop).
Rebuilt from ContinuumIO/anaconda-issues#12408 (NUL bytes, "unacceptable character #x0000"),
crtomirmajer/secode#6 (#x001b pasted into YAML), ESMValGroup/ESMValTool#892 (#x0080 from a
pasted hyphen) and DataUSA/datausa-site#137 (#x0096). Variants: tests/unit/test_config_control_chars.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# (variant, how the good config's text is spoiled)
CASES = [
    ("NUL bytes after a power loss", lambda t: t.replace("feeds:", "fe\x00eds:", 1)),  # anaconda-issues#12408
    ("bracketed-paste escape", lambda t: t.replace("name: Desk", "name: \x1b[200~Desk", 1)),  # secode#6
    ("C1 control from a pasted hyphen", lambda t: t.replace("name: Desk", "name: Desk \x80 x", 1)),  # ESMValTool#892
    ("C1 control U+0096", lambda t: t.replace("name: T", "name: T \x96 x", 1)),  # datausa-site#137
]


@pytest.mark.parametrize(("variant", "spoil"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("verb", ["check", "once"])
def test_a_control_character_in_the_config_is_a_config_error(tmp_path, variant, spoil, verb):
    good = yaml.safe_dump(
        {
            "storage": f"sqlite:///{tmp_path / 'm.db'}",
            "feeds": [{"name": "Desk", "url": "http://127.0.0.1:9/feed.xml"}],
            "channels": {"cap": "json://127.0.0.1:9/alerts"},
            "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": ["cap"]}],
        }
    )
    path = tmp_path / "config.yaml"
    path.write_text(spoil(good), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(path), verb],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
    )
    assert "Traceback" not in r.stderr and r.returncode == 2, (
        f"{verb} / {variant}: exit {r.returncode}\n{r.stderr[-600:]}"
    )
    assert f"{path}:" in r.stderr and "control character" in r.stderr, r.stderr
