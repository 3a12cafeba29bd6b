"""No verb prints raw terminal controls from feeds (issue 14 kind 6, field case
security/27-terminal-escape-injection): ESC/BEL/C0/C1 and bidi overrides in titles,
outlets and discovered feed names are shown as visible escapes (``\\x1b``).

Public reports of the kind, rebuilt as the variants below: EONRaider/RootWire#53 (ESC
``[2J`` clearing the screen from untrusted payload text), bhpark1013/claudenews#10 (an OSC 8
hyperlink opened inside a feed title to retarget a link), newsboat/newsboat#2294 (OSC
sequences in feed-reader output); plus the field case's OSC 0 window title + BEL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.cli import main as cli
from tests.support.web import Response

CASE = Path(__file__).parents[1] / "fixtures" / "security" / "27-terminal-escape-injection"
UNSAFE = ["\x1b", "\x07", "\x9b", "\x08", "\r", "\u202e"]

# (title as the feed writes it (XML character references), what must be shown)
VARIANTS = [
    ("redteam &#27;]0;PWNED&#7;&#27;[2K fake: all feeds OK", "redteam \\x1b]0;PWNED\\x07\\x1b[2K fake"),
    ("redteam clear &#27;[2J&#27;[31m red", "\\x1b[2J\\x1b[31m"),
    ("redteam &#27;]8;;https://phishing.example&#27;\\link&#27;]8;;&#27;\\", "\\x1b]8;;https://phishing.example"),
    ("redteam C1 CSI \u009b2J written raw", "C1 CSI"),  # the reader may drop C1 itself: never raw
    ("redteam bidi &#8238;txt.exe", "\\u202etxt.exe"),
]


def _feed(web_server) -> bytes:
    fixture = (CASE / "feed.xml").read_text(encoding="utf-8").replace("http://127.0.0.1:38509", web_server.url(""))
    extra = "".join(
        f"<item><title>{t}</title><link>{web_server.url(f'/v{i}.html')}</link><guid>v{i}</guid></item>"
        for i, (t, _) in enumerate(VARIANTS)
    )
    return fixture.replace("</channel>", extra + "</channel>").encode()


@pytest.fixture
def config(tmp_path, store_url, web_server):
    page = b"<html><head><title>x</title></head><body><p>redteam</p></body></html>"
    web_server.routes.update({"/feed.xml": _feed(web_server), "/a.html": page})
    web_server.routes.update({f"/v{i}.html": page for i in range(len(VARIANTS))})
    home = (CASE / "home.html").read_bytes()
    web_server.routes["/"] = Response(200, home, {"Content-Type": "text/html; charset=utf-8"})
    cfg = {
        "storage": store_url,
        "defaults": {"backfill": "off"},  # old or undated items
        "fetch": {"allow_private_networks": True},
        "feeds": [{"name": "Evil \u202e\x1b[31m", "url": web_server.url("/feed.xml"), "outlet": "Out\x1b]0;x\x07let"}],
        "channels": {"log": "json://127.0.0.1:9/x"},
        "topics": [{"id": "red", "name": "Red", "any": ["redteam"], "notify": ["log"]}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return str(path)


def _run(capsys, *argv: str) -> str:
    cli.main(list(argv))
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_no_verb_prints_raw_controls_from_feeds(config, web_server, capsys):
    outputs = {"once": _run(capsys, "--config", config, "once")}
    for verb in (
        ["feeds"],
        ["feeds", "list"],
        ["stories", "--all"],  # every story, not only matched ones (the default)
        ["outbox"],
        ["backtest", "red", "--since", "1d", "--all", "-v"],
        ["explain", web_server.url("/a.html")],
        ["feeds", "discover", web_server.url("/")],
        ["check"],
    ):
        outputs[" ".join(verb[:2])] = _run(capsys, "--config", config, *verb)
    for verb, out in outputs.items():
        for ch in UNSAFE:
            assert ch not in out, (verb, repr(ch), out)
    assert "PWNED" in outputs["feeds discover"] and "\\x1b]0;PWNED\\x07" in outputs["feeds discover"]
    for _, shown in VARIANTS:
        assert shown in outputs["stories --all"] + outputs["backtest red"], shown
