"""Logging to stderr, one key=value line per event, secrets redacted."""
from __future__ import annotations

import logging
import os
import re
import sys
from typing import Iterable

# Secret-looking parts of URLs that may reach a log line from a library:
# a Telegram bot token (digits:35 chars, also inside httpx's ".../bot<token>/sendMessage"
# request lines), user:password@ in any URL, and the whole body of an apprise URL
# (tgram://, mailtos://, discord://, ...: their path is credentials).
_PATTERNS = [re.compile(r"(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{20,}"),
             re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
             re.compile(r"(?<![\w+.-])(?!(?:https?|sqlite|postgresql|file)\b)([a-z][a-z0-9]*)(?=(?:\+[a-z0-9]+)?://)"
                        r"((?:\+[a-z0-9]+)?)://[^\s'\"<>]+")]
_REPLACE = ["***", "***", r"\1\2://***"]


class RedactingFilter(logging.Filter):
    """Replace known secret values and secret-looking URL parts with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern, replacement in zip(_PATTERNS, _REPLACE):
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            clean += " exception=" + self.redact(f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}")
            record.exc_info = None   # a traceback could quote a URL with its token
        record.msg, record.args = clean, None
        return True


_filter = RedactingFilter()

# sd-daemon(3) "<N>" prefixes: journald reads each line's priority from them (SyslogLevelPrefix=).
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>" + super().format(record)


def setup(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Log to stderr; without our own timestamps under systemd (journald adds them)."""
    _filter.secrets = [s for s in secrets if s]
    under_systemd = "JOURNAL_STREAM" in os.environ or "INVOCATION_ID" in os.environ
    fmt = "%(levelname)s %(name)s %(message)s" if under_systemd else \
        "%(asctime)s %(levelname)s %(name)s %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JournalFormatter(fmt) if under_systemd else logging.Formatter(fmt))
    handler.addFilter(_filter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries' request lines can carry tokens in URLs; keep them quiet.
    for noisy in ("alembic", "httpx", "httpcore", "apprise", "apscheduler", "urllib3", "trafilatura", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def add_secrets(secrets: Iterable[str]) -> None:
    _filter.secrets = sorted(set(_filter.secrets) | {s for s in secrets if s}, key=len, reverse=True)


def redact(text: str) -> str:
    """The same redaction as log lines get, for text printed by commands."""
    return _filter.redact(text)
