"""logfmt quoting of our log values (issue 18 item 16)."""

from __future__ import annotations

import logging

import pytest

from monitor.service.logs import LogfmtQuoting, logfmt_value


@pytest.mark.parametrize(
    "value,expected",
    [
        ("BBC Arabic", '"BBC Arabic"'),
        ("http://x/y?a=1", '"http://x/y?a=1"'),
        ("plain", "plain"),
        ("", '""'),
        ('say "hi"', '"say \\"hi\\""'),
        ("tab\there", '"tab\\there"'.replace("\\t", "\t")),
        ("C:\\dir name", '"C:\\\\dir name"'),
    ],
)
def test_logfmt_value(value, expected):
    assert logfmt_value(value) == expected


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)


def test_only_key_values_of_our_loggers_are_quoted():
    quote = LogfmtQuoting()
    ours = _record("monitor.pipeline", "poll feed=%s n=%d note %s r=%r", "BBC Arabic", 3, "free text", "a b")
    quote.filter(ours)
    assert ours.getMessage() == "poll feed=\"BBC Arabic\" n=3 note free text r='a b'"
    quote.filter(ours)  # a second handler does not quote twice
    assert ours.getMessage().count('"BBC Arabic"') == 1
    theirs = _record("apprise", "feed=%s", "BBC Arabic")
    quote.filter(theirs)
    assert theirs.getMessage() == "feed=BBC Arabic"
    percent = _record("monitor.x", "100%% done feed=%s", "a b")
    quote.filter(percent)
    assert percent.getMessage() == '100% done feed="a b"'
