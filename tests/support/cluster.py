"""Helpers for cluster-mode tests and bench/cluster.py: a fresh PostgreSQL database, a
cluster config, `monitor run` node processes, a term every article matches.

Each test gets its own database (tests/support/databases.py ``fresh_pg_database``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from monitor.matching.matcher import compile_topics
from monitor.matching.rules import TopicRule

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
CHAT = "987654"


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
