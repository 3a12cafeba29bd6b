"""The notify protocol without a socket: nothing is sent without NOTIFY_SOCKET, and the
watchdog interval read from the environment. The socket itself is in
tests/integration/test_sdnotify.py.
"""

from __future__ import annotations

import os

import pytest

from monitor.service.sdnotify import Notifier


def test_without_notify_socket_nothing_is_sent():
    n = Notifier({})
    assert not n.enabled and not n.ready() and n.watchdog_usec is None


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"WATCHDOG_USEC": "30000000"}, 30_000_000),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30_000_000),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "x"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_from_the_environment(env, expected):
    assert Notifier(env).watchdog_usec == expected
