"""What a `monitor` process pays at start (issue 16), checked in fresh interpreters:
httpx/httpcore come without their optional extras (trio, rich), which stay importable
afterwards; glibc's malloc arenas are capped unless MALLOC_ARENA_MAX was set.
No timing here: the costs are measured in bench/versus_script.py."""

from __future__ import annotations

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


LOADED = "import json, sys; print(json.dumps({m: m in sys.modules for m in ('trio', 'rich', 'httpx', 'httpcore')}))"

EXTRAS = [
    # (what runs first, modules expected loaded afterwards)
    ("import monitor.cli.main", {"trio": False, "rich": False}),
    # the fetcher builds its transport: httpcore's sync pool, still without trio
    (
        "from monitor.fetch.client import Fetcher; Fetcher(timeout=5, user_agent=\"t\").close()",
        {"trio": False, "rich": False, "httpx": True, "httpcore": True},
    ),
    # `monitor status` needs rich: importing it after monitor works as usual
    ("import monitor.cli.main; import rich.console", {"rich": True}),
    ("import monitor; import trio", {"trio": True}),
    # a program that imported httpx itself first is left alone (its extras stay)
    ("import httpx, httpcore; import monitor", {"httpx": True}),
]


@pytest.mark.parametrize(("first", "expected"), EXTRAS, ids=[e[0] for e in EXTRAS])
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
