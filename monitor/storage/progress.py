"""Per-target delivery progress of an alert: the grammar of the ``alerts.delivered`` column.

The column holds space-separated marks, appended as sends succeed or fail for good:

- ``KEY``       target KEY got the whole message;
- ``KEY#I``     target KEY got part I (0-based) of a message split in several parts;
- ``dead:KEY``  target KEY refused the message for good.

KEY is a target's key (``delivery.outbox.target_key``: 12 hex digits; any non-empty
text without whitespace, ``#`` or a leading ``dead:`` is accepted). :class:`Mark` is
the one writer of a mark (``Mark.token``) and :meth:`DeliveryProgress.parse` the one
reader of the column; the outbox sender and ``Store.requeue`` go through them only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SEPARATOR = " "  # between marks in the column; any whitespace is read as one
_DEAD = "dead:"
_PART = "#"


@dataclass(frozen=True)
class Mark:
    """One fact about one target: it got the message (`part` None), got part `part`, or
    (`refused`) refused the message for good. Raises ValueError for a key the column's
    grammar cannot hold, a negative part, or a refused part."""

    target: str
    part: int | None = None
    refused: bool = False

    def __post_init__(self) -> None:
        key = self.target
        if not key or any(c.isspace() for c in key) or _PART in key or key.startswith(_DEAD):
            raise ValueError(f"target key {key!r} cannot be stored (empty, whitespace, '#' or 'dead:')")
        if self.part is not None and (self.part < 0 or self.refused):
            raise ValueError(f"bad mark: part={self.part} refused={self.refused}")

    def token(self) -> str:
        """The mark as written in the column (the only writer of the grammar)."""
        if self.refused:
            return _DEAD + self.target
        return self.target if self.part is None else f"{self.target}{_PART}{self.part}"

    def appended(self) -> str:
        """What to append to a stored progress text to add this mark, separator included (the
        store appends it in SQL so concurrent marks are never lost, then trims)."""
        return SEPARATOR + self.token()

    @classmethod
    def parse(cls, token: str) -> Mark | None:
        """The mark `token` writes, or None when it is not one (never raises)."""
        refused = token.startswith(_DEAD)
        key = token[len(_DEAD) :] if refused else token
        part: int | None = None
        if not refused and _PART in key:
            key, _, index = key.rpartition(_PART)
            if not (index.isascii() and index.isdigit()):
                return None
            part = int(index)
        try:
            return cls(key, part, refused)
        except ValueError:
            return None


@dataclass(frozen=True)
class DeliveryProgress:
    """What an alert's targets have had, as marks in the order they were recorded (no
    repeats). Build it with :meth:`parse`; write it with :meth:`format`."""

    marks: tuple[Mark, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> DeliveryProgress:
        """Read the column. Tokens outside the grammar are skipped (they named no target,
        so no target was ever skipped for them); a repeated mark counts once."""
        marks = (Mark.parse(t) for t in (text or "").split())
        return cls(tuple(dict.fromkeys(m for m in marks if m is not None)))

    def format(self) -> str:
        """The column's text for these marks (``parse(p.format()) == p``)."""
        return SEPARATOR.join(m.token() for m in self.marks)

    def got(self, target: str) -> bool:
        """Whether `target` got the whole message."""
        return Mark(target) in self.marks

    def got_part(self, target: str, part: int) -> bool:
        """Whether `target` got part `part` of a message sent in several parts."""
        return Mark(target, part) in self.marks

    def refused(self, target: str) -> bool:
        """Whether `target` refused the message for good."""
        return Mark(target, refused=True) in self.marks

    def settled(self, target: str) -> bool:
        """Whether nothing more is to be sent to `target` (it got it or refused it)."""
        return self.got(target) or self.refused(target)

    def add(self, mark: Mark) -> DeliveryProgress:
        """These marks and `mark` (unchanged if already there)."""
        return self if mark in self.marks else DeliveryProgress((*self.marks, mark))

    def without_refusals(self) -> DeliveryProgress:
        """These marks without the refusals: what a requeued alert keeps, so refused
        targets are tried again and targets that got it are not sent it twice."""
        return DeliveryProgress(tuple(m for m in self.marks if not m.refused))

    @classmethod
    def common(cls, progresses: Iterable[DeliveryProgress]) -> DeliveryProgress:
        """The marks every one of `progresses` has (a digest of several alerts counts as
        had by a target only if each alert in it was), in the first one's order; empty
        for no progresses."""
        it = iter(progresses)
        first = next(it, None)
        if first is None:
            return cls()
        shared = set(first.marks)
        for p in it:
            shared &= set(p.marks)
        return cls(tuple(m for m in first.marks if m in shared))
