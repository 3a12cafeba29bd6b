"""Sliding-window rate limits ("1/s", "20/m"; see config.values.parse_rate): the sender waits, never drops.

Pure apart from the injected clock and sleep, so tests drive it with a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable


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

    def restart_from(self, ages: Iterable[float]) -> None:
        """Forget this limiter's sends and take these instead: sends made `age` seconds ago
        (by any node of a cluster, read from the store when a node takes the channel over).
        A negative age (the sending node's clock is ahead of this one's) counts as a send made
        just now, never as none: clock skew between machines must not open the limit."""
        with self._lock:
            now = self.clock()
            self._sent.clear()
            self._sent.extend(sorted(now - max(a, 0.0) for a in ages))

    def acquire(self, max_wait: float | None = None) -> bool:
        """Wait for a slot and take it; False if `sleep` asked to stop, or (with `max_wait`,
        seconds) at once if the slot is further away than that: nothing is taken then."""
        with self._lock:
            while True:
                now = self.clock()
                wait = self.wait_time(now)
                if wait <= 0:
                    if self.limits:
                        self._sent.append(now)
                    return True
                if max_wait is not None and wait > max_wait:
                    return False
                if self.sleep(wait) is True:
                    return False
