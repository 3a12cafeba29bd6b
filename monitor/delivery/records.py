"""Recording what a send did, patiently: a message that went out is never forgotten because
the store was busy at that moment (red-team 12 item 18: another process holding SQLite's
write lock past its 30 s busy timeout right after a send made the next pass send it again).

:class:`Recorder` runs each store write that follows a send (target got it, alert sent,
message id), retrying a :class:`~monitor.errors.StoreError` with backoff for up to
:data:`PATIENCE` seconds beyond the store's own wait. A write still refused after that is
kept in memory, in order ("owed"), and the error raised: the sender's next pass writes the
owed records before it sends anything (:meth:`Recorder.settle`), so a live daemon never
resends what went out. Only a process that ends while it owes records (``monitor once``
exiting with the store error, a kill) forgets them: the next run resends those messages
once, the at-least-once allowance README states for a kill between a send and its record.
A journal file would be a second store with its own ways to fail; the bound covers the
lock holders we know of (a backup, an open ``sqlite3`` shell, a long ``monitor`` write).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from monitor.errors import StoreError

__all__ = ["PATIENCE", "Recorder", "busy"]

log = logging.getLogger(__name__)

PATIENCE = 300.0  # seconds of retrying one write, on top of the store's own busy wait (30 s)
FIRST_PAUSE = 1.0  # seconds before the first retry; doubles, capped at MAX_PAUSE
MAX_PAUSE = 30.0

Write = Callable[[], object]

# what a store says when another writer or the network is in the way (SQLite, PostgreSQL via
# psycopg); anything else (a closed store, a constraint) is not waited out
_BUSY = ("locked", "busy", "timeout", "timed out", "could not connect", "connection", "serializ", "deadlock")


def busy(exc: StoreError) -> bool:
    """Whether `exc` is a store that may answer if asked again later (see _BUSY)."""
    text = str(exc).lower()
    return any(word in text for word in _BUSY)


class Recorder:
    """Store writes after a send: retried within :data:`PATIENCE`, else owed (in memory)."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], object],
        clock: Callable[[], float] = time.monotonic,
        patience: float = PATIENCE,
    ) -> None:
        """`sleep(seconds)`: the pause between tries (the sender's stop event's wait, so a
        stop cuts it short); `clock`: monotonic seconds."""
        self.sleep, self.clock, self.patience = sleep, clock, patience
        self.owed: list[tuple[str, Write]] = []

    def write(self, what: str, fn: Write) -> None:
        """Run `fn` (one store write; `what` names it in logs). Owed writes go first, in
        order. Raises StoreError when the store still refuses after :data:`PATIENCE`
        seconds, or at once when it is not busy but broken (:func:`busy`, e.g. closed);
        the write is then owed, done by a later :meth:`settle`."""
        self.owed.append((what, fn))
        self.settle()

    def settle(self) -> None:
        """Do the owed writes in order, each retried within :data:`PATIENCE`; raises
        StoreError (those left stay owed) when the store keeps refusing."""
        while self.owed:
            what, fn = self.owed[0]
            self._patiently(what, fn)
            self.owed.pop(0)

    def _patiently(self, what: str, fn: Write) -> None:
        start, pause, tries = self.clock(), FIRST_PAUSE, 0
        while True:
            try:
                fn()
                if tries:
                    log.warning("record written what=%s tries=%d after=%.0fs", what, tries + 1, self.clock() - start)
                return
            except StoreError as exc:
                tries += 1
                waited = self.clock() - start
                if waited + pause > self.patience or not busy(exc):
                    log.error(
                        "record owed what=%s tries=%d after=%.0fs error=%s; kept in memory, written "
                        "before the next send (a restart now would resend that message once)",
                        what,
                        tries,
                        waited,
                        exc,
                    )
                    raise
                log.warning("record delayed what=%s try=%d error=%s; again in %.0fs", what, tries, exc, pause)
                self.sleep(pause)
                pause = min(MAX_PAUSE, pause * 2)
