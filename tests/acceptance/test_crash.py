"""SIGKILL the real daemon while alerts flow: nothing lost, at most one duplicate per kill.

A short version of bench/crash.py (which runs 50+ kills) so every test run checks it.
"""

from __future__ import annotations

from tests.support.crash_harness import run


def test_kills_lose_nothing(tmp_path):
    result = run(3, articles=30, seed=7, workdir=tmp_path, log=lambda _m: None)
    assert result.expected >= 25  # nearly every article alerts (the term is common)
    assert result.alerts == result.expected
    assert result.lost == 0
    assert result.delivered == result.expected
    assert result.duplicates <= result.kills
    assert result.ledger_open == 0  # every listed item ended in a recorded state
