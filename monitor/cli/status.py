"""`monitor status`: one screen over ssh: daemon health, feeds, today's matches, outbox, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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


def status(config: Config, console: Console | None = None) -> int:
    """Print the summary; 0 (the store could be read)."""
    console = console or Console(file=raw_stdout())
    now = datetime.now(UTC)
    store = Store(config.storage_url)
    try:
        states = {f.name: f for f in store.list_feeds()}
        local_midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        today = stats.matches_by_topic(store, local_midnight)
        backlog = stats.backlog(store, now)
        alert_errors = stats.alert_errors(store, limit=5)
        counts = store.counts()
    finally:
        store.close()

    console.print(f"[bold]monitor[/] {escape(str(config.path))}  daemon: {_daemon_health(config)}")
    feeds = Table(title="Feeds", title_justify="left", expand=False)
    for col in ("feed", "state", "last success", "last poll", "seen", "last error"):
        feeds.add_column(col, overflow="fold" if col == "last error" else "ellipsis")
    healthy = failing = 0
    configured = [f.name for f in config.feeds]
    for name in configured + sorted(set(states) - set(configured)):
        s = states.get(name)
        if s is None:
            state = "[yellow]not polled yet[/]"
        elif s.consecutive_failures >= FAILING_AFTER:
            state = f"[red]failing ×{s.consecutive_failures}[/]"
        else:
            state = "[green]ok[/]"
        if name not in configured:  # removed from the config: history only, not counted
            state += " (not in config)"
        elif s is not None:
            failing += s.consecutive_failures >= FAILING_AFTER
            healthy += s.consecutive_failures < FAILING_AFTER
        feeds.add_row(
            escape(terminal_safe(name)),
            state,
            _age(_since(s.last_success_at, now)) if s else "never",
            _age(_since(s.last_polled_at, now)) if s else "never",
            str(s.items_seen) if s else "0",
            escape(terminal_safe(redact(s.last_error or "")[:120])) if s and s.consecutive_failures else "",
        )
    console.print(feeds)
    console.print(
        f"feeds: [green]{healthy} healthy[/], [red]{failing} failing[/], "
        f"{len(configured) - healthy - failing} not polled yet"
    )

    topics = Table(title="Matches today", caption="since local midnight", title_justify="left")
    topics.add_column("topic")
    topics.add_column("name")
    topics.add_column("matches", justify="right")
    names = {t.id: t.name for t in config.topics}
    for topic_id in list(names) + sorted(set(today) - set(names)):
        topics.add_row(
            escape(topic_id), escape(terminal_safe(names.get(topic_id, "(not in config)"))), str(today.get(topic_id, 0))
        )
    console.print(topics)

    oldest = _age(backlog.oldest_pending_age).replace(" ago", " old") if backlog.pending else "-"
    console.print(
        f"alerts: [bold]{backlog.pending} pending[/] ({backlog.due} due now, oldest {oldest}), "
        f"{counts['alerts_sent']} sent, "
        f"{'[red]' if backlog.dead else ''}{backlog.dead} dead{'[/]' if backlog.dead else ''}; "
        f"articles: {counts['articles']} stored, {backlog.articles_retrying} pages awaiting retry"
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
    console.print("[bold]last errors[/]" if errors else "last errors: none")
    for when, text in errors[:8]:
        line = terminal_safe(redact(text), keep_newlines=False)
        console.print(f"  {_age(_since(when, now))}  {line}", markup=False, highlight=False)
    return 0
