"""Helpers for cluster-mode tests and bench/cluster.py: a fresh PostgreSQL database, a
cluster config, `monitor run` node processes, a term every article matches.

Each test gets its own database (tests/support/databases.py ``fresh_pg_database``).
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.matching.matcher import compile_topics
from monitor.matching.rules import TopicRule
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.storage import Store
from tests.support.service_helpers import SAFETY, articles, serve_feed

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
CHAT = "987654"


@contextlib.contextmanager
def node_on(url: str, text: str) -> Iterator[ClusterNode]:
    """A cluster node of config `text` on database `url`, its store and fetcher closed after."""
    config = parse_config(text, env={})
    store = Store(url)
    fetcher = Fetcher(timeout=5.0, user_agent="monitor-test")
    try:
        yield ClusterNode(Pipeline(config, store, fetcher))
    finally:
        fetcher.close()
        store.close()


def title_term(art: dict) -> str | None:
    """A title word (4+ characters) a one-term topic finds in its own article, or None."""
    for word in art["title"].split():
        if len(word) >= 4 and compile_topics([TopicRule("p", "p", (), (word,), ())]).match(
            art["title"], art["content"]
        ):
            return word
    return None


def covering_terms(articles: list[dict]) -> list[str]:
    """Title words (real text, none invented) such that an `any:` topic on them matches every article."""
    terms: list[str] = []
    for art in articles:
        rule = TopicRule("probe", "probe", (), tuple(terms), ()) if terms else None
        if rule is not None and compile_topics([rule]).match(art["title"], art["content"]):
            continue
        for word in art["title"].split():
            if len(word) >= 4 and compile_topics([TopicRule("p", "p", (), (word,), ())]).match(
                art["title"], art["content"]
            ):
                terms.append(word)
                break
        else:
            raise AssertionError(f"no title word matches its own article: {art['title']}")
    return terms


def cluster_config(
    path: Path, storage: str, feeds: list[tuple[str, str]], terms: list[str], telegram_base: str, **extra: Any
) -> Path:
    """Write a cluster config: `feeds` [(name, url)], one topic on any of `terms`, one Telegram channel."""
    config = {
        "storage": storage,
        "cluster": True,
        "defaults": {"interval": 2, "jitter": 0, "timeout": "10s"},
        "notify": {"telegram_api_url": telegram_base},
        "fetch": {"allow_private_networks": True},  # the test servers listen on 127.0.0.1
        "channels": {"telegram": {"urls": f"tgram://${{TG_TOKEN}}/{CHAT}", "rate": "50/s"}},
        "feeds": [{"name": n, "url": u} for n, u in feeds],
        "topics": [{"id": "all", "name": "All", "any": terms, "min_score": 0, "notify": ["telegram"]}],
        **extra,
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def node_env(name: str, **extra: str) -> dict[str, str]:
    """The environment of node `name` (the Bot token, this checkout, MONITOR_NODE, `extra`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "NOTIFY_", "WATCHDOG_"))}
    env.update(TG_TOKEN=TOKEN, PYTHONPATH=str(ROOT), MONITOR_NODE=name, **extra)
    return env


def start_node(config: Path, name: str, log: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    """`monitor run` as one cluster node named `name` (its log in `log`)."""
    env = node_env(name, **extra_env)
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=config.parent,
        )


FIRST, LATER = 2, 2  # real articles per feed served at start, and arriving later


def site(web: Any, feeds: int) -> tuple[list[dict], list[list[dict]], list[str]]:
    """Serve `feeds` feeds /f0.xml.. of real articles, FIRST items each for now:
    (every article, each feed's articles, the page URLs served now)."""
    arts = articles("2015-07-21", 0, feeds * (FIRST + LATER))
    per_feed = [arts[i * (FIRST + LATER) : (i + 1) * (FIRST + LATER)] for i in range(feeds)]
    pages: list[str] = []
    for i, group in enumerate(per_feed):
        pages += serve_feed(web, f"/f{i}.xml", group[:FIRST])
    return arts, per_feed, pages


def grow(web: Any, per_feed: list[list[dict]]) -> list[str]:
    """New items arrive on every feed (the feed lists old and new); the page URLs."""
    pages: list[str] = []
    for i, group in enumerate(per_feed):
        pages += serve_feed(web, f"/f{i}.xml", group)
    return pages


def alerts(telegram: Any, pages: list[str]) -> collections.Counter[str]:
    """{page URL: alerts naming it} among the fake Bot API's messages."""
    got: collections.Counter[str] = collections.Counter()
    for m in telegram.messages:
        for url in pages:
            if url in m.text:
                got[url] += 1
    return got


def stop_nodes(nodes: list[subprocess.Popen[bytes]]) -> list[int | None]:
    """SIGCONT (a frozen node) then SIGTERM every running node; their exit codes."""
    for p in nodes:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
    for p in nodes:
        try:
            p.wait(SAFETY)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return [p.returncode for p in nodes]


def sql(db: str, query: str, *params: object) -> list[tuple[Any, ...]] | None:
    """Run `query` on database `db` (a SQLAlchemy URL) in autocommit; its rows, if any."""
    import psycopg

    with psycopg.connect(db.replace("+psycopg", ""), autocommit=True) as conn:
        cur = conn.execute(query, params or None)
        return cur.fetchall() if cur.description else None


def node_logs(tmp_path: Path, n: int) -> str:
    """The logs n0.log .. of `n` nodes, joined."""
    return "\n".join((tmp_path / f"n{i}.log").read_text() for i in range(n) if (tmp_path / f"n{i}.log").exists())


def job_holder(db: str, tmp_path: Path, n: int, task: str = "monitor.send") -> str | None:
    """The index (text) of the node whose worker runs a `task` job now (from the jobs table
    and the node's "... worker=W" log line); None when no such job runs."""
    rows = sql(db, "SELECT worker_id FROM procrastinate_jobs WHERE task_name = %s AND status = 'doing'", task)
    if not rows:
        return None
    for i in range(n):
        log = tmp_path / f"n{i}.log"
        if log.exists() and f"worker={rows[0][0]}\n" in log.read_text():
            return str(i)
    return None


def count_round_trips(connector: Any) -> Callable[[], int]:
    """Count the queries procrastinate's `connector` runs from now on (each call still runs
    for real); returns a function giving the count so far."""
    calls = 0
    for name in ("execute_query_one_async", "execute_query_all_async", "execute_query_async"):
        real = getattr(connector, name)

        def counted(*args: Any, __real: Any = real, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            return __real(*args, **kwargs)

        setattr(connector, name, counted)
    return lambda: calls
