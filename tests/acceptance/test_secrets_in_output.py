"""Issue 14 kind 3, as a user runs it: secrets in configured feed URLs never show in `check`, `once`,
`feeds`, `feeds show`, `status` or the log lines (stderr), in any form.

Each feed carries a secret of one kind: a long `?apikey=`, a 2-character `?token=`, a percent-encoded
`?key=`, a `+`-encoded `?api_key=`, a password in the userinfo, and `${VAR}` values (opted in with
`url_env`) of 2 and 3 characters in a query value and in a path segment. Some feeds fail (HTTP 500,
refused connection, credentials in the URL refused), so the URL is quoted in their error text too.
Rebuilt reports: certtools/intelmq#889 (API keys in feed URLs), FreshRSS/FreshRSS#5001 (tokens in logs).
"""

from __future__ import annotations

import subprocess
import urllib.parse
from pathlib import Path

from tests.support.site import run_monitor
from tests.support.web import Response

ROOT = Path(__file__).resolve().parents[2]
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ENV = {"FEED_ID": "Zx", "FEED_DIR": "k3Y"}

CONFIG = """\
storage: sqlite:///monitor.db
fetch: {allow_private_networks: true}
feeds:
  - {name: long, url: 'BASE/a.xml?apikey=LongApiKeyValue77&lang=ar'}
  - {name: short, url: 'BASE/b.xml?token=Qv'}
  - {name: pct, url: 'BASE/c.xml?key=p%40s%20w%2Fd9'}
  - {name: plus, url: 'BASE/d.xml?api_key=pl+us9'}
  - {name: userinfo, url: 'http://u9:hunter-9@HOSTPORT/e.xml'}
  - {name: env, url: 'BASE/f.xml?id=${FEED_ID}', url_env: true}
  - {name: envpath, url: 'BASE/${FEED_DIR}/g.xml', url_env: true}
  - {name: refused, url: 'http://127.0.0.1:1/h.xml?sig=Sg7'}
channels:
  c: json://127.0.0.1:9/x
topics:
  - {id: t, name: T, any: [nothing-matches-this], notify: [c]}
"""
# what must never show, as `name=value` (short values are common letters) or alone (long ones)
NEVER = [
    "LongApiKeyValue77",
    "token=Qv",
    "p%40s%20w%2Fd9",
    "p@s w/d9",
    "p%40s+w%2Fd9",
    "api_key=pl+us9",
    "pl us9",
    "hunter-9",
    "id=Zx",
    "/k3Y/",
    "sig=Sg7",
]


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_monitor(config, "--log-level", "DEBUG", *args, env=ENV)


def test_no_verb_prints_a_secret_of_a_feed_url(tmp_path, web_server):
    for path in ("/a.xml", "/f.xml", "/k3Y/g.xml"):
        web_server.routes[path] = Response(200, RSS, {"Content-Type": "application/rss+xml"})
    for path in ("/b.xml", "/c.xml", "/d.xml"):
        web_server.routes[path] = Response(500, b"down")
    base = web_server.url("").rstrip("/")
    config = tmp_path / "config.yaml"
    text = CONFIG.replace("BASE", base).replace("HOSTPORT", urllib.parse.urlsplit(base).netloc)
    config.write_text(text, encoding="utf-8")

    outputs = {}
    for verb in (["check"], ["once"], ["feeds"], ["feeds", "show", "short"], ["status"], ["feeds", "export"]):
        done = run(config, *verb)
        outputs[" ".join(verb)] = done
        assert done.returncode == 0, (verb, done.stderr)
    assert "FAILED" in outputs["once"].stdout and "HTTP 500" in outputs["once"].stdout  # errors are shown...
    assert outputs["feeds"].stdout.count("last error") >= 4
    assert "a.xml?apikey=***&lang=ar" in outputs["check"].stdout  # ... and URLs stay readable
    served = {urllib.parse.urlsplit(r.path).path for r in web_server.requests}
    assert {"/a.xml", "/f.xml", "/k3Y/g.xml", "/b.xml"} <= served  # the secrets were used to fetch
    for verb, done in outputs.items():
        for secret in NEVER:
            assert secret not in done.stdout, (verb, secret, done.stdout)
            assert secret not in done.stderr, (verb, secret, done.stderr)
