"""`monitor outbox`: list pending, retrying and dead alerts; `outbox retry ID` re-queues one;
`outbox holds` lists the holds a cluster keeps (a server's flood wait, a rate-limit wait),
`outbox holds --clear NAME` drops a channel's."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.cli import common
from monitor.delivery.render import clean, cut_words

if TYPE_CHECKING:  # storage (SQLAlchemy) is imported only when a command runs
    from monitor.config.load import Config
    from monitor.storage import Hold, OutboxAlert, Store

_STATES = ("pending", "retrying", "held", "stranded", "dead", "sent")
STRANDED = "channel not in config (renamed or removed)"  # as monitor.delivery.outbox.STRANDED says it


def _state(alert: OutboxAlert, channels: Collection[str] | None = None) -> str:
    """The state `monitor outbox` shows; `channels`: the config's channel names (a pending
    alert of another channel is "stranded": kept, sent when it is back or moved)."""
    if alert.status == "pending" and channels is not None and alert.channel not in channels:
        return "stranded"
    if alert.status == "pending" and alert.attempts > 0:
        return "retrying"
    if alert.status == "pending" and alert.digest:
        return "held"
    return alert.status


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def cmd_outbox(args: argparse.Namespace) -> int:
    from monitor.storage import Store

    if args.clear is not None and args.action != "holds":
        print("outbox: --clear NAME goes with holds (`monitor outbox holds --clear NAME`)", file=sys.stderr)
        return 2
    config = common.load(args)
    store = Store(config.storage_url)
    try:
        if args.action == "retry":
            try:
                ids = [int(i) for i in args.ids]
            except ValueError:
                print("outbox retry: alert IDs are numbers (see `monitor outbox`)", file=sys.stderr)
                return 2
            return _retry(store, list(dict.fromkeys(ids)), now=args.now)  # `retry 3 3`: once
        if args.action == "move":
            return _move(store, list(args.ids), list(config.channels))
        if args.action == "holds":
            return _holds(store, config, args)
        chans = set(config.channels)
        wanted = set(args.state or ("pending", "retrying", "held", "stranded", "dead"))
        statuses = {"pending" if s in ("retrying", "held", "stranded") else s for s in wanted}
        rows = [a for status in sorted(statuses) for a in store.list_alerts(status, limit=args.limit)]
        rows = sorted((a for a in rows if _state(a, chans) in wanted), key=lambda a: a.id)
        counts = store.counts()
    finally:
        store.close()
    if args.json:
        common.print_json(
            [
                {
                    "id": a.id,
                    "state": _state(a, chans),
                    "channel": a.channel,
                    "topic": a.topic_id,
                    "attempts": a.attempts,
                    "next_attempt_at": a.next_attempt_at,
                    "subject": a.subject,
                    "last_error": STRANDED if _state(a, chans) == "stranded" else a.last_error,
                }
                for a in rows
            ]
        )
        return 0
    print(f"{'ID':>6}  {'STATE':8}  {'CHANNEL':12}  {'TRIES':>5}  {'NEXT (UTC)':19}  SUBJECT / LAST ERROR")
    for a in rows:
        print(
            f"{a.id:>6}  {_state(a, chans):8}  {cut_words(a.channel, 12):12}  {a.attempts:>5}  "
            f"{'never' if _state(a, chans) == 'stranded' else _when(a.next_attempt_at):19}  "
            f"{cut_words(clean(a.subject), 70)}"
        )
        if _state(a, chans) == "stranded":
            print(f"{'':>6}  {'':8}  {STRANDED}: sent when it is back, or `monitor outbox move {a.channel} NEW`")
        elif a.last_error and a.status != "sent":
            print(f"{'':>6}  {'':8}  error: {cut_words(clean(a.last_error), 160)}")
    print(f"total: pending={counts['alerts_pending']} sent={counts['alerts_sent']} dead={counts['alerts_dead']}")
    return 0


def _move(store: Store, names: list[str], configured: list[str]) -> int:
    """`outbox move OLD NEW`: the pending alerts of channel OLD (renamed or removed) go to NEW."""
    if len(names) != 2:
        print("outbox move: give OLD and NEW channel names (`monitor outbox move OLD NEW`)", file=sys.stderr)
        return 2
    old, new = names
    if new not in configured:
        print(f"outbox move: {common.unknown_name('channel', new, configured)}", file=sys.stderr)
        return 2
    moved = store.move_channel(old, new)
    print(f"moved {moved} pending alert(s) from channel {old!r} to {new!r}; the next pass sends them")
    return 0


def _held_channels(hold: Hold, config: Config) -> list[str]:
    """The config's channels `hold` keeps silent (a server's: every name sending to its
    target), else the channel that wrote it."""
    from monitor.delivery import holds

    if hold.kind == "rate":
        return [hold.holder]
    names = [c for c, urls in config.channels.items() if hold.holder in holds.channel_keys(c, urls)]
    return names or [f"{hold.channel} (not in config)"]


def _holds(store: Store, config: Config, args: argparse.Namespace) -> int:
    """`outbox holds`: the holds in force (cluster mode writes them); `--clear NAME` drops
    channel NAME's (its rate hold, the server holds of its targets and those it wrote)."""
    from monitor.delivery import holds

    if args.clear is not None:
        name = args.clear
        keys = holds.channel_keys(name, config.channels[name]) if name in config.channels else frozenset()
        gone = store.clear_holds(name, keys)
        if not gone:
            print(f"outbox holds: no hold keeps channel {name!r} silent; nothing to do", file=sys.stderr)
            return 1
        print(f"cleared {gone} hold(s) of channel {name!r}; its next send job sends (a server may refuse again)")
        return 0
    found = store.holds()
    rows = [(h, ", ".join(_held_channels(h, config))) for h in found]
    if args.json:
        common.print_json(
            [
                {
                    "channels": names,
                    "kind": h.kind,
                    "target": h.target or None,
                    "until": h.until,
                    "left_seconds": round(h.left, 1),
                    "reason": h.reason,
                    "rate": h.rate,
                    "written_by": h.channel,
                }
                for h, names in rows
            ]
        )
        return 0
    print(f"{'CHANNEL':20}  {'KIND':6}  {'UNTIL (UTC)':19}  {'LEFT':>7}  {'REASON':10}  TARGET")
    for h, names in rows:
        target = h.target or f"our rate: {h.rate or '?'}"
        print(
            f"{cut_words(names, 20):20}  {h.kind:6}  {_when(h.until):19}  {h.left:>6.0f}s  {h.reason:10}  "
            f"{cut_words(clean(target), 70)}"
        )
    print(f"total: {len(rows)} hold(s); `monitor outbox holds --clear NAME` drops a channel's")
    return 0


def _retry(store: Store, ids: list[int], *, now: bool = False) -> int:
    if not ids:
        print("outbox retry: give the ID of a dead alert (see `monitor outbox`)", file=sys.stderr)
        return 2
    status = 0
    for alert_id in ids:
        alert = store.get_alert(alert_id)
        if alert is None:
            print(f"alert {alert_id}: no such alert", file=sys.stderr)
            status = 1
        elif now and _state(alert) == "retrying":
            if store.retry_now(alert_id):
                print(f"alert {alert_id}: due now (channel {alert.channel}, {alert.attempts} tries so far)")
            else:  # sent or given up meanwhile
                print(f"alert {alert_id}: is no longer retrying; nothing to do", file=sys.stderr)
                status = 1
        elif not store.requeue(alert_id):
            hint = " (`--now` also takes retrying alerts)" if _state(alert) == "retrying" else ""
            print(f"alert {alert_id}: is {_state(alert)}, not dead; nothing to do{hint}", file=sys.stderr)
            status = 1
        else:
            print(f"alert {alert_id}: re-queued (channel {alert.channel}); the daemon sends it shortly")
    return status


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("outbox", help="show pending, retrying and dead alerts; `outbox retry ID` re-queues")
    p.add_argument(
        "action",
        nargs="?",
        choices=["list", "retry", "move", "holds"],
        default="list",
        help="list (the default), retry IDs, move OLD NEW (a renamed channel's pending alerts), "
        "or holds (a cluster's flood waits and rate-limit waits)",
    )
    p.add_argument("ids", nargs="*", help="alert IDs (for retry); OLD NEW channel names (for move)")
    p.add_argument(
        "--state", action="append", choices=_STATES, help="only these states (repeatable; default: all but sent)"
    )
    p.add_argument("--limit", type=common.count, default=200, help="rows per status (default 200)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per alert")
    p.add_argument("--now", action="store_true", help="retry: also take retrying alerts, due now")
    p.add_argument("--clear", metavar="NAME", help="holds: drop the holds that keep channel NAME silent")
    p.set_defaults(func=cmd_outbox)
