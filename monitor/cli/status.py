"""`monitor status`: one screen over ssh: daemon health, feeds, today's matches, outbox, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import raw_stdout
from monitor.config.load import Config
from monitor.redact import redact
from monitor.storage import Store, stats
from monitor.text.terminal import terminal_safe

FAILING_AFTER = 1  # consecutive failed polls before a feed shows as failing


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _since(when: datetime | None, now: datetime) -> float | None:
    return (now - when).total_seconds() if when else None


def _daemon_health(config: Config) -> str:
    """Ask the running daemon's /healthz, when an HTTP listener is configured."""
    if not config.http.listen:
        return "unknown (no http.listen in the config)"
    from monitor.config.values import parse_listen

    host, port = parse_listen(config.http.listen)
    host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    url = f"http://[{host}]:{port}/healthz" if ":" in host else f"http://{host}:{port}/healthz"
    try:
        resp = httpx.get(url, timeout=3.0)
        body = json.loads(resp.text)
    except (httpx.HTTPError, ValueError) as exc:
        return f"[red]not reachable[/] at {url} ({type(exc).__name__})"
    colour = "green" if body.get("status") == "ok" else "red"
    return f"[{colour}]{body.get('status')}[/] ({body.get('progress', '')}) at {url}"


def _one_line(text: str, width: int) -> str:
    """Secrets masked, whitespace folded, cut to `width` characters with an ellipsis (pure)."""
    flat = " ".join(terminal_safe(redact(text)).split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"


SHOW_ALL_FEEDS = 8  # more feeds than this: list only the ones not ok (`status -v` lists all)
SHOW_ERRORS = 3


class _Console(Console):
    def on_broken_pipe(self) -> None:  # rich exits 1; the CLI ends a closed pipe quietly with 0
        raise BrokenPipeError


def status(config: Config, console: Console | None = None, *, as_json: bool = False, verbose: bool = False) -> int:
    """Print the summary (fits 80×24 unless `verbose`), or one JSON object; 0 (the store was read)."""
    console = console or _Console(file=raw_stdout())
    now = datetime.now(UTC)
    store = Store(config.storage_url)
    try:
        states = {f.name: f for f in store.list_feeds()}
        local_midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        today = stats.matches_by_topic(store, local_midnight)
        backlog = stats.backlog(store, now)
        alert_errors = stats.alert_errors(store, limit=5)
        counts = store.counts()
        cluster = None
        if config.cluster:
            from monitor.service.cluster_status import cluster_summary

            cluster = cluster_summary(store, config.cluster_stall_after, 1.0)
        stranded = {c: n for c, n in store.pending_by_channel().items() if c not in config.channels}
        configured = [f.name for f in config.feeds]
        # ledger items of a feed the config no longer names wait for it (renamed or removed)
        orphan_items = {
            f: n for f in sorted(set(states) - set(configured)) if (n := store.item_counts(f).get("pending", 0))
        }
    finally:
        store.close()

    rows: list[dict[str, Any]] = []
    for name in configured + sorted(set(states) - set(configured)):
        s = states.get(name)
        state = "not polled yet" if s is None else "failing" if s.consecutive_failures >= FAILING_AFTER else "ok"
        rows.append(
            {
                "feed": name,
                "state": state,
                "in_config": name in configured,
                "failures": s.consecutive_failures if s else 0,
                "last_success_age_seconds": _since(s.last_success_at, now) if s else None,
                "last_poll_age_seconds": _since(s.last_polled_at, now) if s else None,
                "items_seen": s.items_seen if s else 0,
                "last_error": redact(s.last_error) if s and s.last_error and s.consecutive_failures else None,
                "items_pending": orphan_items.get(name, 0) if name not in configured else None,
                "untrusted_validators": s.untrusted.split() if s and s.untrusted else [],
            }
        )
    errors = [
        (s.last_error_at, f"feed {s.name}: {s.last_error}")
        for s in states.values()
        if s.last_error and s.consecutive_failures
    ]
    errors += [
        (e.created_at, f"alert {e.id} {e.topic_id}->{e.channel} ({e.status}, {e.attempts} attempts): {e.error}")
        for e in alert_errors
    ]
    errors.sort(key=lambda x: x[0] or now, reverse=True)
    names = {t.id: t.name for t in config.topics}
    if as_json:
        body = {
            "config": str(config.path),
            "daemon": _daemon_health(config),
            "feeds": rows,
            "matches_today": {t: today.get(t, 0) for t in list(names) + sorted(set(today) - set(names))},
            "outbox": {
                "pending": backlog.pending,
                "due": backlog.due,
                "oldest_pending_age_seconds": backlog.oldest_pending_age if backlog.pending else None,
                "sent": counts["alerts_sent"],
                "dead": backlog.dead,
                "stranded": stranded,
            },
            "articles": {"stored": counts["articles"], "awaiting_retry": backlog.articles_retrying},
            "errors": [{"at": when, "error": redact(text)} for when, text in errors],
        }
        if cluster is not None:
            body["cluster"] = cluster
        print(redact(json.dumps(body, ensure_ascii=False, default=str)))
        return 0

    width = console.width
    console.print(
        f"[bold]monitor[/] {escape(_one_line(str(config.path), 30))}  daemon: {_daemon_health(config)}",
        overflow="ellipsis",
        no_wrap=True,
    )
    if cluster is not None:
        alive = ", ".join(n["name"] for n in cluster["nodes"] if n["alive"]) or "none"
        console.print(
            f"cluster: {cluster['nodes_alive']} node(s) alive ({escape(_one_line(alive, 40))}); jobs queued "
            f"{cluster['jobs_queued']}, running {cluster['jobs_running']}, stalled {cluster['jobs_stalled']}, "
            f"failed {cluster['jobs_failed']}",
            overflow="ellipsis",
            no_wrap=True,
        )
    healthy = sum(1 for r in rows if r["in_config"] and r["state"] == "ok")
    liars = sum(1 for r in rows if r["in_config"] and r["untrusted_validators"])  # `monitor feeds` says why
    failing = sum(1 for r in rows if r["in_config"] and r["state"] == "failing")
    shown = rows if verbose or len(rows) <= SHOW_ALL_FEEDS else [r for r in rows if r["state"] != "ok"]
    more = 0 if verbose else max(0, len(shown) - SHOW_ALL_FEEDS)  # every feed failing: still 80x24 (issue 18)
    shown = shown if verbose else shown[:SHOW_ALL_FEEDS]
    feeds = Table(title="Feeds", title_justify="left", expand=False, box=None, pad_edge=False)
    for col in ("feed", "state", "last success", "last poll", "seen", "last error"):
        feeds.add_column(col, no_wrap=True, overflow="ellipsis", max_width=None if col == "last error" else 22)
    for r in shown:
        state = {"ok": "[green]ok[/]", "failing": f"[red]failing ×{r['failures']}[/]"}.get(
            r["state"], "[yellow]not polled yet[/]"
        )
        if not r["in_config"]:  # removed from the config: history only, not counted
            state += " (not in config)"
            if r["items_pending"]:
                state += f" [yellow]{r['items_pending']} items waiting[/]"
        feeds.add_row(
            escape(terminal_safe(r["feed"])),
            state,
            _age(r["last_success_age_seconds"]) if r["state"] != "not polled yet" else "never",
            _age(r["last_poll_age_seconds"]) if r["state"] != "not polled yet" else "never",
            str(r["items_seen"]),
            escape(_one_line(r["last_error"] or "", max(20, width - 62))),
        )
    if shown:
        console.print(feeds)
    if more:
        console.print(f"… and {more} more not ok (`monitor status -v` lists all)")
    console.print(
        f"feeds: [green]{healthy} healthy[/], [red]{failing} failing[/], "
        f"{len(configured) - healthy - failing} not polled yet"
        + (f", [yellow]{liars} with lying validators[/]" if liars else "")
        + (" (healthy ones not listed; `monitor status -v` lists all)" if len(shown) < len(rows) else "")
    )

    topics = [(t, today.get(t, 0)) for t in list(names) + sorted(set(today) - set(names))]
    line = ", ".join(f"{t} {n}" for t, n in topics if n or verbose or len(topics) <= 6) or "none"
    console.print(f"matches today: {escape(_one_line(line, width - 15))}", no_wrap=True, overflow="ellipsis")

    oldest = _age(backlog.oldest_pending_age).replace(" ago", " old") if backlog.pending else "-"
    console.print(
        f"alerts: [bold]{backlog.pending} pending[/] ({backlog.due} due now, oldest {oldest}), "
        f"{counts['alerts_sent']} sent, "
        f"{'[red]' if backlog.dead else ''}{backlog.dead} dead{'[/]' if backlog.dead else ''}; "
        f"articles: {counts['articles']} stored, {backlog.articles_retrying} pages awaiting retry"
    )
    for channel, n in stranded.items():
        console.print(
            f"[red]stranded: {n} alert(s) of channel {escape(_one_line(channel, 30))!r}: not in config"
            f" (renamed or removed)[/]; `monitor outbox move {escape(_one_line(channel, 30))} NEW` or restore it",
            overflow="ellipsis",
        )
    for feed, n in orphan_items.items():
        console.print(
            f"[yellow]waiting: {n} pending item(s) of feed {escape(_one_line(feed, 30))!r}: not in config"
            " (renamed or removed)[/]; they are worked when a feed of that name is back",
            overflow="ellipsis",
        )
    console.print("[bold]last errors[/]" if errors else "last errors: none")
    limit = len(errors) if verbose else SHOW_ERRORS
    for when, text in errors[:limit]:
        line = f"  {_age(_since(when, now))}  {text}"
        console.print(line if verbose else _one_line(line, width - 1), markup=False, highlight=False, soft_wrap=verbose)
    if len(errors) > limit:
        console.print(f"  … {len(errors) - limit} more (`monitor status -v` or `--json` for details)")
    return 0
