"""Red team 17d: README's "Running several nodes" followed literally (issue 17), on the real
PostgreSQL. `storage: postgresql+psycopg://USER:${PGPASSWORD}@HOST/DB` with a generated
password: each row is a password a generator or an operator may well make."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from monitor.config.load import parse_config
from monitor.service.cluster_status import conninfo
from tests.support.cluster import ROOT
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

CONFIG = """
storage: postgresql+psycopg://postgres:${{PGPW}}@127.0.0.1:5432/{db}
cluster: true
feeds: [{{name: F, url: "http://127.0.0.1:9/feed"}}]
channels: {{tg: {{urls: "tgram://1:x/2"}}}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""

# (case, password): redteam17d #1 -- before the fix the value went into the URL as written,
# so `@ / #` moved the host (a fragment of the password logged as the host, "failed to
# resolve host 'ss'") and a `%41` reached the server decoded (another password)
PASSWORDS = [
    ("at-slash-hash", "p@ss/w#rd"),
    ("percent-escape", "a%41b"),
    ("colon-query", "x:y?z&w=1"),
    ("plain", "S3cretPassw0rd"),
]


@pytest.mark.parametrize("case,password", PASSWORDS, ids=[p[0] for p in PASSWORDS])
def test_a_storage_password_variable_reaches_the_server_as_written(case, password):
    config = parse_config(CONFIG.format(db="monitor"), env={"PGPW": password})
    url = make_url(config.storage_url)
    assert (url.password, url.host, url.port, url.database) == (password, "127.0.0.1", 5432, "monitor")
    # procrastinate's own connection (the workers) gets the same password
    assert psycopg.conninfo.conninfo_to_dict(conninfo(config.storage_url))["password"] == password


@pytest.mark.parametrize("case,password", PASSWORDS[:2], ids=[p[0] for p in PASSWORDS[:2]])
def test_status_opens_the_store_and_shows_no_piece_of_the_password(tmp_path: Path, case, password):
    with fresh_pg_database() as db:
        name = make_url(db).database
        path = tmp_path / "config.yaml"
        path.write_text(CONFIG.format(db=name), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(path), "status"],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PGPW": password},
            cwd=tmp_path,
        )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    pieces = {password[i : i + 3] for i in range(len(password) - 2)}
    assert not [p for p in pieces if p in out], out
