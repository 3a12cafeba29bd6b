"""Shell completion (issue 18, item 3): with argcomplete installed (the `completion` extra,
also in `test`), `monitor` completes verbs and options. Run as the shell runs it: the
program started with argcomplete's environment (`_ARGCOMPLETE`, `COMP_LINE`, `COMP_POINT`)
and the candidates read from file descriptor 8, as argcomplete's own tests do.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.site import ROOT


def complete(line: str) -> tuple[int, list[str]]:
    """(exit code, candidates) for the command line `line` with the cursor at its end."""
    read, write = os.pipe()
    saved = os.dup(8) if _is_open(8) else None
    os.dup2(write, 8)
    os.close(write)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "COMP_", "_ARGCOMPLETE"))}
    env.update(_ARGCOMPLETE="1", _ARGCOMPLETE_IFS="\n", COMP_LINE=line, COMP_POINT=str(len(line)), PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "monitor"], env=env, pass_fds=(8,), capture_output=True, text=True, timeout=120
        )
    finally:
        os.close(8)
        if saved is not None:
            os.dup2(saved, 8)
            os.close(saved)
    with os.fdopen(read, encoding="utf-8") as out:
        words = [w.strip() for w in out.read().split("\n") if w.strip()]
    return done.returncode, words


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("line", "present", "absent"),
    [
        ("monitor ", {"run", "once", "check", "status", "topics", "explain", "feeds", "outbox", "stories"}, set()),
        ("monitor on", {"once"}, {"run", "check"}),
        ("monitor once --", {"--dry-run", "--feed", "--config", "--log-level"}, {"--json"}),
        ("monitor feeds ", {"import", "export", "discover", "show", "--json"}, {"once"}),
        ("monitor outbox retry --", {"--now", "--config"}, {"--dry-run"}),
        ("monitor stories --m", {"--min-articles"}, {"--topic"}),
    ],
)
def test_completes_verbs_and_options(line, present, absent):
    code, words = complete(line)
    assert code == 0
    assert present <= set(words), words
    assert not (absent & set(words)), words
