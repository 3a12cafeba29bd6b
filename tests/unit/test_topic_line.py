"""Issue 18: a grouped message names every topic, also with long names (each name cut, never
the list), in the topic line and in the email subject. Names are real article titles
(tests/fixtures, via tests/support/render_helpers), the kind of long name a user pastes."""

from __future__ import annotations

import pytest

from monitor.delivery.compose import merge_matches
from monitor.delivery.render import SUBJECT_MAX, cut_middle, render_alert, topic_line
from monitor.models import Match
from tests.support.render_helpers import ARTICLES, KOREA, article_of, match_for

LONG = [r["title"] for r in ARTICLES if len(r["title"]) > 60][:8]


@pytest.mark.parametrize(
    "names",
    [
        [f"{LONG[0]} ({i})" for i in range(4)],  # the red team's case: names differing only at the end
        [f"{LONG[0]} {LONG[1]} ({i})" for i in range(4)],
        [f"{t} ({i})" for i, t in enumerate(LONG[:7])],  # seven topics of one article
        [LONG[0], "كوريا"],  # one long, one short: the short one is whole
        ["كوريا", "روسيا"],  # short names: unchanged
    ],
)
def test_every_topic_is_named_in_the_line_and_the_subject(names):
    line = topic_line(names)
    parts = line.split("، ")
    assert len(parts) == len(names)
    for name, part in zip(names, parts, strict=True):
        assert part == name or (part.endswith(name[-3:]) and part.startswith(name[:8])), (name, part)
    assert len(line) <= max(180, 16 * len(names) + 2 * (len(names) - 1))
    matches = [Match(f"t{i}", n, match_for(KOREA, "كوريا").hits, "") for i, n in enumerate(names)]
    merged = merge_matches(matches)
    alert = render_alert(article_of(KOREA), merged, outlet="سبق", channel_kind="email")
    assert len(alert.subject) <= SUBJECT_MAX
    assert line in alert.subject and line in alert.text


@pytest.mark.parametrize(
    ("text", "limit"),
    [("abcdefghijklmnopqrstuvwxyz", 10), ("abc", 10), ("abcdefghij", 10), ("abcdefghijk", 2)],
)
def test_cut_middle_keeps_both_ends_within_the_limit(text, limit):
    cut = cut_middle(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith("…" + text[len(text) - len(cut.split("…")[1]) :]) and text.startswith(cut.split("…")[0])
