"""Issue 18 (red team 18): apprise's own log lines passed through on our logger are logfmt
(`apprise said message="..."`) like every other line."""

from __future__ import annotations

import re

import pytest

from tests.acceptance.test_check_pitfalls import small_config
from tests.acceptance.test_store_shown import monitor

LOGFMT = re.compile(r'^\S+ \S+ [A-Z]+ monitor\.\S+ [a-z][a-z ]*( [a-z_]+=("([^"\\]|\\.)*"|[^\s"]+))*$')


@pytest.mark.parametrize(
    "channel",
    [
        "mailto://u:p@127.0.0.1:1?from=a@example.org&to=b@example.org",  # connection refused
        "mailtos://u:p@127.0.0.1:1?from=a@example.org&to=b@example.org",  # TLS to a closed port
        "json://127.0.0.1:1/hook",  # an HTTP endpoint that refuses
    ],
)
def test_test_alert_log_lines_are_logfmt(tmp_path, channel):
    """A refused connection: the apprise line went out as free text (`apprise: Connection error
    while submitting email to "127.0.0.1"`), not key=value."""
    cwd = small_config(tmp_path, "    any: [روسيا]\n", channel=channel)
    result = monitor(cwd, "test-alert", "telegram")
    lines = [line for line in result.stderr.splitlines() if " monitor." in line]
    assert lines, result.stderr
    assert [line for line in lines if not LOGFMT.match(line)] == []
