"""Sliding-window rate limits ("1/s", "20/m"): the sender waits, it never drops.

Pure apart from the injected clock and sleep, so tests drive it with a fake clock.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*(s|m|h)\s*$")
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_rate(text: str) -> tuple[int, float]:
    """'20/m' -> (20, 60.0); '1/s', '3/10s', '100/h'. Raises ValueError."""
    m = _RATE_RE.match(str(text))
    if not m or int(m.group(1)) < 1:
        raise ValueError(f"must be a rate like 1/s, 20/m or 3/10s (got {text!r})")
    period = float(m.group(2) or 1) * _UNIT[m.group(3)]
    if period <= 0:
        raise ValueError(f"must be a rate like 1/s, 20/m or 3/10s (got {text!r})")
    return int(m.group(1)), period


class RateLimiter:
    """At most `count` sends in any `period` seconds, for every (count, period) given.

    `acquire()` blocks (through `sleep`) until a send is allowed and records it;
    `sleep` returning True means "stop waiting" (a stop event was set).
    """

    def __init__(
        self,
        limits: Iterable[tuple[int, float]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.limits = tuple(sorted(limits, key=lambda cp: cp[1]))
        self.clock = clock
        self.sleep = sleep
        keep = max((c for c, _ in self.limits), default=0)
        self._sent: deque[float] = deque(maxlen=keep or 1)
        self._lock = threading.Lock()

    def wait_time(self, now: float) -> float:
        """Seconds until the next send is allowed (0: now)."""
        wait = 0.0
        for count, period in self.limits:
            if len(self._sent) >= count:
                oldest = self._sent[-count]  # the count-th most recent send
                wait = max(wait, oldest + period - now)
        return max(wait, 0.0)

    def acquire(self) -> bool:
        """Wait for a slot and take it; False if `sleep` asked to stop."""
        with self._lock:
            while True:
                now = self.clock()
                wait = self.wait_time(now)
                if wait <= 0:
                    if self.limits:
                        self._sent.append(now)
                    return True
                if self.sleep(wait) is True:
                    return False
