"""The code base stays readable: ruff's lint rules and format (set in pyproject.toml) hold
on monitor/, tests/ and bench/. Part of the README's one test command, so CI runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREES = ["monitor", "tests", "bench"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["check", "--no-cache", *TREES], id="check"),
        pytest.param(["format", "--check", *TREES], id="format"),
    ],
)
def test_ruff(args: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_import_linter_contracts_hold() -> None:
    """Every [tool.importlinter] contract in pyproject.toml: the stage layers, the layers inside
    each package, and the pure modules kept free of sqlalchemy, apprise and httpx."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', cache_dir=None, no_logo=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert ", 0 broken." in out.stdout, out.stdout
