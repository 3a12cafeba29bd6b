"""Cluster mode's pure parts (issue 17): when a feed is due without a node's timer, the
shared jitter, the rate limiter restarted from the store's sends, the procrastinate
connection string, and the config refusing `cluster: true` on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.delivery.ratelimit import RateLimiter
from monitor.errors import ConfigError
from monitor.fetch.schedule import cluster_due, jitter_share
from monitor.service.cluster import conninfo

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
S = timedelta(seconds=1)

# (case, now - T0 in s, last_polled_at offset or None, next_poll_at offset or None, interval, jitter, due)
DUE = [
    ("never polled", 0, None, None, 60, 0.0, True),
    ("polled just now", 1, 0, None, 60, 0.0, False),
    ("interval passed", 60, 0, None, 60, 0.0, True),
    ("just before the interval", 59, 0, None, 60, 0.0, False),
    ("backoff in the future wins over the interval", 120, 0, 300, 60, 0.0, False),
    ("backoff passed", 300, 0, 300, 60, 0.0, True),
    ("server hint never undercut", 3599, 0, 3600, 60, 0.0, False),
    ("jitter never makes it early", 59, 0, None, 60, 0.5, False),
    ("jitter at most doubles at 1.0", 121, 0, None, 60, 1.0, True),
    ("a Retry-After on a never-polled feed", 10, None, 30, 60, 0.0, False),
]


@pytest.mark.parametrize("case,now,last,nxt,interval,jitter,due", DUE, ids=[d[0] for d in DUE])
def test_cluster_due(case, now, last, nxt, interval, jitter, due):
    got = cluster_due(
        T0 + now * S,
        "F",
        last_polled_at=None if last is None else T0 + last * S,
        next_poll_at=None if nxt is None else T0 + nxt * S,
        interval=interval,
        jitter=jitter,
    )
    assert got is due


def test_jitter_share_is_the_same_on_every_node_and_spread():
    shares = [jitter_share(f"feed-{i}", T0) for i in range(200)]
    assert shares == [jitter_share(f"feed-{i}", T0) for i in range(200)]  # no random draw: nodes agree
    assert all(0.0 <= s < 1.0 for s in shares)
    assert min(shares) < 0.1 and max(shares) > 0.9  # spread, so feeds are not polled in one burst
    assert jitter_share("F", T0) != jitter_share("F", T0 + S)  # a new draw per poll


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# (case, limits, ages of sends made by the previous holder, wait before the next send)
RESTART = [
    ("another node sent 0.2 s ago: 1/s waits 0.8 s", [(1, 1.0)], [0.2], 0.8),
    ("sent 2 s ago: free", [(1, 1.0)], [2.0], 0.0),
    ("20/m full from other nodes", [(1, 1.0), (20, 60.0)], [1.0 + i for i in range(20)], 40.0),
    ("nothing sent", [(1, 1.0)], [], 0.0),
    # red team (issue 17): the previous holder's clock 2 s ahead of ours (NTP skew) gave its
    # send of "just now" a negative age, and it was dropped: the chat got 2 in 10 s on 1/10s
    ("previous holder's clock 2 s ahead: its send counts as just now", [(1, 10.0)], [-2.0], 10.0),
    ("one send 2 s ahead, one 3 s old, 2/10s", [(2, 10.0)], [-2.0, 3.0], 7.0),
]


@pytest.mark.parametrize("case,limits,ages,wait", RESTART, ids=[r[0] for r in RESTART])
def test_rate_limit_restarts_from_the_clusters_sends(case, limits, ages, wait):
    clock = _Clock()
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    limiter.acquire()  # this node's own old send is forgotten: the store's list replaces it
    limiter.restart_from(ages)
    assert limiter.wait_time(clock()) == pytest.approx(wait)


CONNINFO = [
    ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "postgresql://postgres@127.0.0.1:5432/test"),
    ("postgresql+psycopg://u:p%40ss@db:5432/m", "postgresql://u:p%40ss@db:5432/m"),
    (
        "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dt_1",
        "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dt_1",
    ),
]


@pytest.mark.parametrize("url,expected", CONNINFO)
def test_conninfo_for_procrastinate(url, expected):
    assert conninfo(url) == expected


BASE = {
    "feeds": [{"name": "F", "url": "http://example.com/feed"}],
    "channels": {"tg": "tgram://1:x/2"},
    "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": ["tg"]}],
}

# (case, extra keys, error fragment or None)
CONFIGS = [
    ("cluster on sqlite refused", {"cluster": True}, "cluster: true needs a PostgreSQL store"),
    ("cluster on an explicit sqlite file", {"cluster": True, "storage": "sqlite:///x.db"}, "cluster: true needs"),
    ("cluster on postgresql", {"cluster": True, "storage": "postgresql+psycopg://u@h/db"}, None),
    (
        "stall timeout too short",
        {"cluster": True, "storage": "postgresql+psycopg://u@h/db", "cluster_stall_after": "1s"},
        "cluster_stall_after",
    ),
    ("single node default", {}, None),
]


@pytest.mark.parametrize("case,extra,error", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_cluster_config(case, extra, error, tmp_path):
    text = yaml.safe_dump({**extra, **BASE})
    if error is None:
        config = parse_config(text, env={})
        assert config.cluster is bool(extra.get("cluster"))
        return
    with pytest.raises(ConfigError) as info:
        parse_config(text, env={}, path=tmp_path / "config.yaml")
    message = "\n".join(info.value.problems)
    assert error in message
    line = 1 + next(i for i, s in enumerate(text.splitlines()) if s.startswith(error.split(":")[0].split()[0]))
    assert f"config.yaml:{line}:" in message  # file:line: path: message
