"""Issue 14 kind 2, as a user meets it: `monitor feeds import evil.opml`, then `check` and `once`.

The list (field case 05, tests/fixtures/security/05-opml-env-exfil/evil.opml) puts `${VAR}`
spellings into a feed URL and title; the poll must never send an environment value to the
list's server, in any spelling. A config line pasted by hand with `${VAR}` in a feed URL is a
config error naming `url_env` (and nothing is fetched). Rebuilt reports: FreshRSS/FreshRSS#9276
(remote OPML attributes are untrusted), curl/curl#11311 (expansion only where the file opts in).
"""

from __future__ import annotations

import subprocess
import urllib.parse
from pathlib import Path

import pytest

from tests.support.site import run_monitor
from tests.support.web import Response

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "tests" / "fixtures" / "security" / "05-opml-env-exfil" / "evil.opml"
ENV = {"TELEGRAM_BOT_TOKEN": "987654:sEcReT-bot-TOKEN_x", "SMTP_PASSWORD": "p@ss w/rd", "SHORT": "q7"}
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

CONFIG = """\
storage: sqlite:///monitor.db
fetch: {allow_private_networks: true}
feeds:
  - name: Home
    url: URL_HOME
channels:
  c: json://127.0.0.1:9/x
topics:
  - {id: t, name: T, any: [nothing-matches-this], notify: [c]}
"""

# xmlUrl query as the list's author writes it (the case as found first)
SPELLINGS = [
    None,
    "t=${TELEGRAM_BOT_TOKEN}",
    "p=${SMTP_PASSWORD:-x}&s=${SHORT}",
    "e=$${TELEGRAM_BOT_TOKEN}",
    "pct=%24%7BSMTP_PASSWORD%7D",
    "bare=$SHORT",
    "nest=${NOPE:-${TELEGRAM_BOT_TOKEN}}",
]


def _forms(value: str) -> set[str]:
    return {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value), urllib.parse.quote(value)}


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_monitor(config, *args, env=ENV)


@pytest.mark.parametrize("queries", [[None], SPELLINGS[1:]], ids=["as-found", "spellings"])
def test_an_imported_list_never_reaches_the_environment(tmp_path, web_server, queries):
    web_server.routes["/home.xml"] = Response(200, RSS, {"Content-Type": "application/rss+xml"})
    web_server.routes["/feed.xml"] = Response(200, RSS, {"Content-Type": "application/rss+xml"})
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.replace("URL_HOME", web_server.url("/home.xml")), encoding="utf-8")
    opml = CASE.read_text(encoding="utf-8").replace("ATTACKER", web_server.url("").rstrip("/"))
    head, outline, tail = opml.partition(opml[opml.index("    <outline type") : opml.index("/>") + 3])
    outlines = [  # one outline per spelling, in its title and its xmlUrl
        outline
        if q is None
        else outline.replace("t=${TELEGRAM_BOT_TOKEN}&amp;p=${SMTP_PASSWORD:-x}", q.replace("&", "&amp;"))
        .replace("Gulf Daily ${SMTP_PASSWORD}", f"Gulf Daily {q.replace('&', '&amp;')}")
        .replace('text="Gulf Daily"', f'text="Gulf Daily {i}"')
        for i, q in enumerate(queries)
    ]
    (tmp_path / "evil.opml").write_text(head + "".join(outlines) + tail, encoding="utf-8")

    imported = run(config, "feeds", "import", "evil.opml")
    assert imported.returncode == 0, imported.stderr
    assert f"{len(queries)} added, 0 skipped of {len(queries)}" in imported.stdout
    assert config.read_text(encoding="utf-8").count("$${") >= len(queries) - 1  # written escaped
    checked = run(config, "check")
    assert checked.returncode == 0, checked.stderr
    once = run(config, "once")
    assert once.returncode == 0, once.stderr

    paths = [r.path for r in web_server.requests]
    polled = [p for p in paths if urllib.parse.urlsplit(p).path == "/feed.xml"]
    assert len(polled) == len(queries)  # every feed of the list was polled
    for secret in ENV.values():
        for form in _forms(secret):
            assert not any(form in p for p in paths), (form, paths)
            for out in (imported, checked, once):
                assert form not in out.stdout + out.stderr


@pytest.mark.parametrize(
    "url",
    ["URL?t=${TELEGRAM_BOT_TOKEN}", "URL?p=${SMTP_PASSWORD:-x}", "URL?s=${SHORT}"],
)
def test_a_pasted_line_with_a_variable_is_refused_until_the_feed_opts_in(tmp_path, web_server, url):
    web_server.routes["/home.xml"] = Response(200, RSS, {"Content-Type": "application/rss+xml"})
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.replace("URL_HOME", url.replace("URL", web_server.url("/home.xml"))), encoding="utf-8")
    refused = run(config, "once")
    assert refused.returncode == 2 and "url_env: true" in refused.stderr and "feeds[0].url" in refused.stderr
    assert web_server.requests == []

    text = config.read_text(encoding="utf-8").replace("    url: ", "    url_env: true\n    url: ")
    config.write_text(text, encoding="utf-8")
    polled = run(config, "once")
    assert polled.returncode == 0, polled.stderr
    assert len(web_server.requests) == 1  # the owner's own choice: the variable is read and sent
    for secret in ENV.values():  # ... and still never printed
        for form in _forms(secret):
            assert form not in polled.stdout + polled.stderr
