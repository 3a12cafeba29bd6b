"""monitor/ type-checks under `mypy --strict` (config in pyproject.toml [tool.mypy]). Part of
the README's one test command, so CI runs it; in tests/integration because a cold run takes
tens of seconds, too slow for the unit tier's inner loop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
