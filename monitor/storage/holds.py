"""Holds across a cluster (table ``target_holds``): no node sends to a target, or on a
channel, until a stamp of the database's clock.

Two kinds, one row each per holder (delivery/holds.py judges which holds keep a channel
silent, since that needs the config):

- ``server``: the target's server asked us to wait (Telegram's 429 "retry after N") or the
  target just failed (a failure pause). Keyed by the target's identity (a hash; the row's
  ``target`` names it with its secrets left out), so every channel name sending to that
  chat, mailbox or webhook waits, whatever the config calls it. A longer hold stays.
- ``rate``: our own ``rate:`` has no slot until then. Keyed by the channel name, with the
  limits it was computed from (``rate``); it replaces the channel's earlier rate hold.

PostgreSQL stamps rows with its own clock (``clock_timestamp()``: every node reads the same
time). SQLite (one node, `monitor outbox holds` there) uses this process's clock.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, case, column, func, literal, or_, select, table

from monitor.storage.cluster import DB_NOW
from monitor.storage.db import Database
from monitor.storage.schema import target_holds

SERVER, RATE = "server", "rate"
# 0014's table, kept by 0015 for the 0014 nodes of a rolling upgrade: the flood waits and
# failure pauses they still write there hold the new nodes too, keyed ``channel:NAME`` as
# 0015 moved the older ones (delivery/holds.py ``legacy_key``; redteam17e #6)
_legacy = table("channel_holds", column("channel"), column("until"), column("reason"))


@dataclass(frozen=True)
class Hold:
    """One hold in force: ``kind`` server or rate; ``holder`` the target's identity hash
    (server) or the channel's name (rate); ``channel`` the channel that wrote it; ``target``
    the target, secrets left out; ``until`` (UTC) and ``left`` (seconds) by the database's
    clock; ``reason`` "flood wait", "failure" or "rate"; ``rate`` the limits a rate hold
    was computed from."""

    kind: str
    holder: str
    channel: str
    target: str
    until: datetime
    left: float
    reason: str
    rate: str | None = None


class HoldRows(Database):
    """Writes and reads of ``target_holds`` (raise StoreError)."""

    def _until(self, seconds: float) -> Any:
        seconds = max(seconds, 0.0)
        if self.dialect == "postgresql":
            return DB_NOW + func.make_interval(0, 0, 0, 0, 0, 0, literal(seconds, Float))
        return datetime.now(UTC) + timedelta(seconds=seconds)

    def hold_target(self, holder: str, target: str, channel: str, seconds: float, reason: str) -> None:
        """No node sends to target `holder` (its identity hash) for `seconds` from now: a
        server's flood wait or a failure pause, written by `channel`. A longer hold stays."""
        ins = self.insert_into(target_holds).values(
            kind=SERVER, holder=holder, channel=channel, target=target, until=self._until(seconds), reason=reason
        )
        old, new = target_holds.c, ins.excluded
        later = new.until >= old.until
        set_ = {c: case((later, new[c]), else_=old[c]) for c in ("until", "reason", "channel", "target")}
        with self.tx() as conn:
            conn.execute(ins.on_conflict_do_update(index_elements=["kind", "holder"], set_=set_))

    def hold_rate(self, channel: str, seconds: float, rate: str) -> None:
        """`channel`'s rate limits (`rate`, their signature) have no slot for `seconds`: it
        replaces the channel's earlier rate hold."""
        until = self._until(seconds)
        ins = self.insert_into(target_holds).values(
            kind=RATE, holder=channel, channel=channel, target="", until=until, reason="rate", rate=rate
        )
        set_ = {"until": ins.excluded.until, "rate": ins.excluded.rate}
        with self.tx() as conn:
            conn.execute(ins.on_conflict_do_update(index_elements=["kind", "holder"], set_=set_))

    def holds(self) -> list[Hold]:
        """Every hold in force now (by the database's clock), the longest first. One read:
        the table holds a row per held target or channel, a handful."""
        c = target_holds.c
        with self.tx() as conn:
            if self.dialect == "postgresql":
                now: datetime = conn.execute(select(DB_NOW)).scalar_one()
            else:
                now = datetime.now(UTC)
            rows = conn.execute(select(target_holds).where(c.until > now).order_by(c.until.desc(), c.holder)).all()
            found = [
                Hold(r.kind, r.holder, r.channel, r.target, r.until, (r.until - now).total_seconds(), r.reason, r.rate)
                for r in rows
            ]
            if self.dialect == "postgresql":  # 0014 nodes ran in cluster mode only
                old = select(_legacy).where(_legacy.c.until > now, _legacy.c.reason != RATE)
                for r in conn.execute(old).all():
                    until = r.until if r.until.tzinfo else r.until.replace(tzinfo=UTC)
                    left = (until - now).total_seconds()
                    found.append(Hold(SERVER, f"channel:{r.channel}", r.channel, "", until, left, r.reason))
        return sorted(found, key=lambda h: (-h.left, h.holder))

    def clear_holds(self, channel: str, holders: Collection[str] = ()) -> int:
        """Drop the holds written by `channel`, its rate hold, and the server holds of
        `holders` (its targets' identity hashes); how many rows went."""
        c = target_holds.c
        which = or_(c.channel == channel, (c.kind == RATE) & (c.holder == channel))
        if holders:
            which = or_(which, (c.kind == SERVER) & c.holder.in_(list(holders)))
        with self.tx() as conn:
            gone = int(conn.execute(target_holds.delete().where(which)).rowcount or 0)
            if self.dialect == "postgresql":  # a 0014 node's hold of it (a rolling upgrade)
                gone += int(conn.execute(_legacy.delete().where(_legacy.c.channel == channel)).rowcount or 0)
            return gone
