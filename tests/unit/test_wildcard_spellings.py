"""Issue 18: every spelling of a wildcard is refused like `*` (a search tool's `?`, the Arabic
question mark, fullwidth forms from IMEs and PDFs); ordinary terms are not."""

from __future__ import annotations

import pytest

from monitor.matching.rules import term_problem


@pytest.mark.parametrize(
    ("term", "refused"),
    [
        ("روسي*", True),
        ("روسي?", True),  # Google Alerts / Lucene one-letter wildcard
        ("روسي؟", True),  # the same typed on an Arabic keyboard
        ("روسي＊", True),  # fullwidth asterisk
        ("روسي％", True),  # fullwidth percent
        ("روسي？", True),  # fullwidth question mark
        ("روسيا", False),
        ("~بيونغ يانغ", False),
        ("كوريا الشمالية", False),
    ],
)
def test_wildcard_spellings_are_refused(term, refused):
    problem = term_problem(term)
    assert (problem is not None and "wildcard" in problem) == refused, problem
