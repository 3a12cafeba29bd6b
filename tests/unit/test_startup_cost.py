"""What a `monitor` process pays at start (issue 16), checked in fresh interpreters:
httpx/httpcore come without their optional extras (trio, rich), which stay importable
afterwards; glibc's malloc arenas are capped unless MALLOC_ARENA_MAX was set.
No timing here: the costs are measured in bench/versus_script.py."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


LOADED = (
    "import json, sys; print(json.dumps({m: m in sys.modules for m in "
    "('trio', 'rich', 'click', 'httpx', 'httpcore', 'numpy', 'sqlalchemy.dialects.postgresql', "
    "'prometheus_client', 'trafilatura')}))"
)

EXTRAS = [
    # (what runs first, modules expected loaded afterwards)
    ("import monitor.cli.main", {"trio": False, "rich": False, "click": False}),
    # what an idle `monitor once` imports: the pipeline and a SQLite store, no numpy (only
    # fingerprinting an article needs it), no trafilatura (only extracting one), no PostgreSQL
    # dialect, no prometheus_client (only a registry someone reads)
    (
        "import monitor.pipeline, monitor.storage.store, monitor.cli.main",
        {
            "numpy": False,
            "sqlalchemy.dialects.postgresql": False,
            "click": False,
            "prometheus_client": False,
            "trafilatura": False,
        },
    ),
    # counting events does not load prometheus either; reading the registry does
    ("from monitor import metrics; metrics.POLLS.labels('f', 'ok').inc()", {"prometheus_client": False}),
    ("from monitor import metrics; metrics.registry()", {"prometheus_client": True}),
    # extracting an article loads trafilatura then
    (
        "from monitor.extract.article import extract; "
        "extract('<html><body><article><p>' + 'word ' * 60 + '</p></article></body></html>')",
        {"trafilatura": True},
    ),
    # fingerprinting an article loads numpy then
    ("from monitor.dedup import neardup; neardup.fingerprint('a b c d')", {"numpy": True}),
    # the fetcher builds its transport: httpcore's sync pool, still without trio
    (
        "from monitor.fetch.client import Fetcher; Fetcher(timeout=5, user_agent=\"t\").close()",
        {"trio": False, "rich": False, "httpx": True, "httpcore": True},
    ),
    # `monitor status` needs rich: importing it after monitor works as usual
    ("import monitor.cli.main; import rich.console", {"rich": True}),
    # trio is an optional extra nothing here installs (a fresh venv of the README lacks it): that row
    # runs only where it is installed, as on a machine where another program brought it
    pytest.param(
        "import monitor; import trio",
        {"trio": True},
        marks=pytest.mark.skipif(importlib.util.find_spec("trio") is None, reason="trio is not installed"),
        id="import monitor; import trio",
    ),
    ("import monitor; import click", {"click": True}),
    # a program that imported httpx itself first is left alone (its extras stay)
    ("import httpx, httpcore; import monitor", {"httpx": True}),
]


@pytest.mark.parametrize(("first", "expected"), EXTRAS, ids=[e.id if hasattr(e, "id") else e[0] for e in EXTRAS])
def test_http_stack_comes_without_its_optional_extras(first, expected):
    loaded = _run(f"{first}\n{LOADED}")
    assert {k: loaded[k] for k in expected} == expected


ARENAS = [
    # (environment, applied?)
    ({}, True),
    ({"MALLOC_ARENA_MAX": "4"}, False),  # the operator's own setting wins (glibc read it at start)
]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is glibc's")
@pytest.mark.parametrize(("env", "applied"), ARENAS, ids=["default", "MALLOC_ARENA_MAX set"])
def test_malloc_arenas_capped_unless_the_operator_chose(env, applied):
    code = "import json; from monitor.cli.main import fewer_malloc_arenas; print(json.dumps(fewer_malloc_arenas()))"
    assert _run(code, **env) is applied


# Events counted before the registry exists read the same once it is built (issue 16: prometheus
# is loaded only when asked for). Each row: the events, then (sample, labels, expected value).
# The last rows count after the registry exists, and past PENDING kept observations.
REPLAY = [
    (
        "m.POLLS.labels('f', 'ok').inc(); m.POLLS.labels('f', 'ok').inc(2)",
        ("monitor_polls_total", {"feed": "f", "result": "ok"}, 3.0),
    ),
    (
        "m.POLLS.labels('f', 'ok').inc(); m.POLLS.labels('g', 'ok').inc()",
        ("monitor_polls_total", {"feed": "g", "result": "ok"}, 1.0),
    ),
    ("m.POLL_SECONDS.observe(0.07); m.POLL_SECONDS.observe(7)", ("monitor_poll_duration_seconds_count", {}, 2.0)),
    (
        "m.POLL_SECONDS.observe(0.07); m.POLL_SECONDS.observe(7)",
        ("monitor_poll_duration_seconds_bucket", {"le": "0.1"}, 1.0),
    ),
    ("m.SEND_SECONDS.labels('tg').observe(1.5)", ("monitor_alert_send_duration_seconds_sum", {"channel": "tg"}, 1.5)),
    ("m.registry(); m.MATCHES.labels('t').inc()", ("monitor_matches_total", {"topic": "t"}, 1.0)),
    (
        "m.MATCHES.labels('t').inc(); m.registry(); m.MATCHES.labels('t').inc()",
        ("monitor_matches_total", {"topic": "t"}, 2.0),
    ),
    (
        "m.PENDING = 3\nfor _ in range(5): m.ARTICLE_SECONDS.observe(0.02)",
        ("monitor_article_duration_seconds_count", {}, 5.0),
    ),
]


@pytest.mark.parametrize(("events", "sample"), REPLAY)
def test_metrics_counted_before_the_registry_read_the_same(events, sample):
    name, labels, expected = sample
    code = (
        f"import json\nfrom monitor import metrics as m\n{events}\n"
        f"print(json.dumps(m.registry().get_sample_value({name!r}, {labels!r})))"
    )
    assert _run(code) == expected


def test_a_fetcher_loads_the_ca_bundle_once():
    """A TLS context (the CA bundle read and parsed, ≈ 25 ms CPU) is made once per Fetcher, not once
    for httpx's transport and again for the guarded pool that replaces its own."""
    code = (
        "import json, ssl\nmade = []\nreal = ssl.create_default_context\n"
        "ssl.create_default_context = lambda *a, **k: made.append(1) or real(*a, **k)\n"
        "from monitor.fetch.client import Fetcher\nFetcher(timeout=5, user_agent='t').close()\n"
        "print(json.dumps(len(made)))"
    )
    assert _run(code) == 1
