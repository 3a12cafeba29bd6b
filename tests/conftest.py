"""Shared pytest fixtures."""

import logging
import os
import sys

import pytest

# Make ``tests.servers`` (and ``monitor``) importable however pytest is run.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.servers import FakeTelegram, SmtpServer, WebServer  # noqa: E402

# aiosmtpd logs dropped client connections from its server thread, sometimes after
# pytest has closed the test's log capture ("I/O operation on closed file").
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


@pytest.fixture
def web_server():
    """A running :class:`tests.servers.WebServer` (set ``.routes``)."""
    with WebServer() as server:
        yield server


@pytest.fixture
def smtp_server():
    """A running :class:`tests.servers.SmtpServer`; use ``.apprise_url()``."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def fake_telegram():
    """A running :class:`tests.servers.FakeTelegram` with apprise's
    ``NotifyTelegram.notify_url`` pointed at it for the test's duration."""
    with FakeTelegram() as server:
        server.patch_apprise()
        yield server


@pytest.fixture
def fake_telegram_unpatched():
    """A running FakeTelegram *without* touching apprise, for tests of the
    product's own ``notify.telegram_api_url`` setting. apprise's
    ``NotifyTelegram.notify_url`` is restored afterwards whatever the test
    set it to."""
    from apprise.plugins.telegram import NotifyTelegram

    original = NotifyTelegram.__dict__["notify_url"]
    try:
        with FakeTelegram() as server:
            yield server
    finally:
        NotifyTelegram.notify_url = original
