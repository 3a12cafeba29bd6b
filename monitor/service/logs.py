"""Logging to stderr, one key=value line per event, secrets redacted."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable

from monitor.redact import RedactingFilter, add_secrets
from monitor.text.terminal import terminal_safe

_filter = RedactingFilter()

# sd-daemon(3) "<N>" prefixes: journald reads each line's priority from them (SyslogLevelPrefix=).
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _SafeFormatter(logging.Formatter):
    """Feed text in a log line (titles, outlets, URLs) never reaches a terminal or the
    journal as control codes: ESC/BEL/C0/C1 and bidi overrides are written as escapes."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


class _JournalFormatter(_SafeFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>" + super().format(record)


def setup(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Log to stderr; without our own timestamps under systemd (journald adds them)."""
    add_secrets(secrets)
    under_systemd = "JOURNAL_STREAM" in os.environ or "INVOCATION_ID" in os.environ
    fmt = "%(levelname)s %(name)s %(message)s" if under_systemd else "%(asctime)s %(levelname)s %(name)s %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JournalFormatter(fmt) if under_systemd else _SafeFormatter(fmt))
    handler.addFilter(_filter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries' request lines can carry tokens in URLs; keep them quiet.
    for noisy in (
        "alembic",
        "httpx",
        "httpcore",
        "apprise",
        "apscheduler",
        "urllib3",
        "trafilatura",
        "charset_normalizer",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
