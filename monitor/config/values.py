"""The value syntaxes config.yaml uses, parsed (pure; no imports from the rest of monitor).

Config validation and the runtime modules that act on these values (delivery's
rate limiter and schedule, the service's health listener, the CLI's `--since`)
share these parsers, so a value the config accepts is exactly a value the
runtime can use. Every parser raises ValueError with a message that names the
expected form and echoes the input as `(got '...')`.
"""

from __future__ import annotations

import re
from datetime import time

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_DURATION_UNIT: dict[str | None, float] = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*(s|m|h)\s*$")
_RATE_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0}
_HHMM = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")

Rate = tuple[int, float]  # (count, period in seconds): at most `count` sends in any `period`
Window = tuple[time, time]  # (start, end) local wall times; end < start wraps past midnight


def parse_duration(value: object) -> float:
    """'90s', '10m', '2h', '1d', '1.5h' or a number of seconds -> seconds (float > 0).

    Raises ValueError for other text, booleans, zero and negative values.
    """
    if isinstance(value, bool):
        raise ValueError("must be a duration like 90s, 10m, 2h")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"must be a duration like 90s, 10m, 2h (got {value!r})")
        seconds = float(m.group(1)) * _DURATION_UNIT[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"must be positive (got {value!r})")
    return seconds


def parse_rate(text: str) -> Rate:
    """'20/m' -> (20, 60.0); also '1/s', '3/10s', '100/h'. Raises ValueError (count < 1, period 0)."""
    m = _RATE.match(str(text))
    if not m or int(m.group(1)) < 1:
        raise ValueError(f"must be a rate like 1/s, 20/m or 3/10s (got {text!r})")
    period = float(m.group(2) or 1) * _RATE_UNIT[m.group(3)]
    if period <= 0:
        raise ValueError(f"must be a rate like 1/s, 20/m or 3/10s (got {text!r})")
    return int(m.group(1)), period


def parse_hhmm(text: str) -> time:
    """'07:30' or '7:30' -> time(7, 30) (24-hour clock). Raises ValueError."""
    m = _HHMM.match(str(text))
    if not m:
        raise ValueError(f"must be a time like 07:30 (got {text!r})")
    return time(int(m.group(1)), int(m.group(2)))


def parse_window(text: str) -> Window:
    """'23:00-07:00' -> (23:00, 07:00); a window may wrap past midnight. Raises ValueError (also start == end)."""
    start, sep, end = str(text).partition("-")
    if not sep:
        raise ValueError(f"must be a window like 23:00-07:00 (got {text!r})")
    window = parse_hhmm(start), parse_hhmm(end)
    if window[0] == window[1]:
        raise ValueError(f"start and end must differ (got {text!r})")
    return window


def parse_listen(value: str) -> tuple[str, int]:
    """'127.0.0.1:9464', '[::1]:9464', ':9464' or '9464' -> (host, port); host defaults to 127.0.0.1.

    Port 0 is allowed (the OS picks one). An IPv6 address must be in brackets:
    in `::1` or `2001:db8::2:30` the last colon is part of the address, not a port
    separator. Raises ValueError for those, and for a port outside 0-65535 or not a number.
    """
    value = value.strip()
    form = f"must be HOST:PORT like 127.0.0.1:9464 or [::1]:9464 (got {value!r})"
    if value.startswith("["):
        host, close, rest = value[1:].partition("]")
        if not close or not host or not rest.startswith(":"):
            raise ValueError(form)
        port = rest[1:]
    else:
        host, sep, port = value.rpartition(":")
        if not sep:
            host, port = "", value
        if ":" in host or "[" in host or "]" in host:
            raise ValueError(f"an IPv6 address needs brackets, like [::1]:9464 (got {value!r})")
        host = host or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(form)
    return host, int(port)
