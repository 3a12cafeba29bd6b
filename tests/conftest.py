"""Shared pytest fixtures."""

import logging
import os
import sys

import pytest

# Make ``tests.support`` (and ``monitor``) importable however pytest is run.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.site import serve_site  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402
from tests.support.telegram import FakeTelegram  # noqa: E402
from tests.support.web import WebServer  # noqa: E402

# aiosmtpd logs dropped client connections from its server thread, sometimes after
# pytest has closed the test's log capture ("I/O operation on closed file").
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


@pytest.fixture
def web_server():
    """A running :class:`tests.support.web.WebServer` (set ``.routes``)."""
    with WebServer() as server:
        yield server


@pytest.fixture
def site(web_server):
    """:func:`tests.support.site.serve_site` on ``web_server``: two feeds of real
    pages; returns (web_server, the URLs that must alert)."""
    return serve_site(web_server)


@pytest.fixture
def smtp_server():
    """A running :class:`tests.support.smtp.SmtpServer`; use ``.apprise_url()``."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def fake_telegram():
    """A running :class:`tests.support.telegram.FakeTelegram` with apprise's
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


@pytest.fixture(autouse=True)
def _restore_root_logging():
    """Tests that run `cli.main` in-process call logs.setup, which puts a stderr handler
    on the root logger; pytest closes that stream after the test, so restore the root
    logger's level and drop that handler (later tests' threads would log into a closed file)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers and type(handler) is logging.StreamHandler:  # logs.setup's own
            root.removeHandler(handler)
    root.setLevel(level)


_LAYERS = ("unit", "integration", "acceptance")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder (tests/unit, tests/integration, tests/acceptance), so
    `pytest -m unit` is the quick inner loop and `-m "not acceptance"` skips the CLI/daemon runs."""
    for item in items:
        parts = item.path.parts
        for layer in _LAYERS:
            if layer in parts:
                item.add_marker(getattr(pytest.mark, layer))
