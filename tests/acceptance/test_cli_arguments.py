"""Issue 18 (red team 18): CLI arguments a new user gets wrong: a negative `--limit` is a
usage error (exit 2) before it reaches the store; `outbox retry 3 3` retries alert 3 once."""

from __future__ import annotations

import pytest

from tests.acceptance.test_check_pitfalls import small_config
from tests.acceptance.test_store_shown import monitor
from tests.support.site import run_monitor, write_config


def test_outbox_retry_the_same_id_twice_is_not_an_error(tmp_path, site, smtp_server, fake_telegram_unpatched):
    """`monitor outbox retry 3 3` re-queues alert 3, then reports it "is pending, not dead" and exits 1."""
    from tests.support.telegram import TelegramReply

    web, expected = site
    config = write_config(tmp_path, web, smtp_server, fake_telegram_unpatched)
    fake_telegram_unpatched.queue(*[TelegramReply.chat_not_found()] * len(expected))
    assert run_monitor(config, "once").returncode == 0
    dead = [line.split()[0] for line in run_monitor(config, "outbox").stdout.splitlines() if " dead " in line]
    assert dead
    result = run_monitor(config, "outbox", "retry", dead[0], dead[0])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("outbox", "--limit", "-1"),
        ("stories", "--limit", "-1"),
        ("feeds", "A", "-n", "-1"),
        ("stories", "--min-articles", "-2"),
        ("outbox", "--limit", "ten"),
        ("suggest", "t1", "--top", "-5"),
    ],
)
def test_a_negative_limit_is_a_usage_error_not_a_store_error(tmp_path, args):
    """On PostgreSQL `--limit -1` reaches the database: "store error: store ***: LIMIT must not be
    negative", exit 1 (the code for an unusable store); on SQLite it silently means "no limit"."""
    from tests.support.databases import PG_BASE, pg_scratch

    cwd = small_config(tmp_path, "    any: [روسيا]\n")
    with pg_scratch("SCHEMA") as schema:
        store = f"{PG_BASE}?options=-csearch_path%3D{schema}"
        result = monitor(cwd, *args, env={"MONITOR_STORAGE": store})
    assert "store error" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
