"""Logging to stderr, one key=value line per event, secrets redacted."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable

from monitor.redact import RedactingFilter, add_secrets
from monitor.text.terminal import terminal_safe

_filter = RedactingFilter()


def logfmt_value(value: str) -> str:
    """A value as logfmt writes it: quoted (with `\\` and `"` escaped) when it is empty or
    holds whitespace, `"` or `=`; as is otherwise (pure)."""
    if value and not any(c.isspace() or c in '"=' for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_PLACEHOLDER = re.compile(r"%(?:%|[-#0 +]*\d*(?:\.\d+)?([a-zA-Z]))")


class LogfmtQuoting(logging.Filter):
    """Quote our records' `key=%s` values the logfmt way (`feed="BBC Arabic"`); other
    placeholders and other libraries' records are left alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not record.name.startswith("monitor") or not isinstance(args, tuple) or not args:
            return True
        if getattr(record, "monitor_logfmt", False) or not isinstance(record.msg, str):
            return True
        out, i = list(args), 0
        for m in _PLACEHOLDER.finditer(record.msg):
            if m.group(1) is None:  # %%
                continue
            if i >= len(out):
                break
            if (
                m.group(1) == "s"
                and m.start() > 0
                and record.msg[m.start() - 1] == "="
                and isinstance(out[i], (str, BaseException))
            ):
                out[i] = logfmt_value(str(out[i]))
            i += 1
        record.args = tuple(out)
        record.monitor_logfmt = True  # marks a record already quoted (a public attribute: records cross modules)
        return True


_quoting = LogfmtQuoting()

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
    handler.addFilter(_quoting)
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
