"""`terminal_safe`: terminal controls from feeds written as visible escapes (issue 14 kind 6).
The verbs that print through it are tested in tests/acceptance/test_terminal_output.py."""

from __future__ import annotations

import pytest

from monitor.text.terminal import terminal_safe


@pytest.mark.parametrize(
    "text,shown",
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("bell\x07", "bell\\x07"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("over\rwrite", "over\\x0dwrite"),
        ("del\x7f", "del\\x7f"),
        ("rlo\u202eabc", "rlo\\u202eabc"),
        ("iso\u2066x\u2069", "iso\\u2066x\\u2069"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("خبر عاجل", "خبر عاجل"),
    ],
)
def test_terminal_safe_escapes_controls_and_keeps_text(text, shown):
    assert terminal_safe(text) == shown


def test_newlines_can_be_escaped_too():
    assert terminal_safe("a\nb", keep_newlines=False) == "a\\x0ab"
