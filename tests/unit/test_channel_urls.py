"""monitor.config.channelurls: a channel URL read with its one apprise plugin module gives the same
plugin object apprise's own loader gives, and anything that path does not accept is left to apprise
(issue 16: apprise imports all ≈ 120 plugin modules at the first lookup of any scheme).
In fresh interpreters: checking and sending to a known scheme never loads apprise's plugin
manager; an unknown scheme still works through it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import apprise
import pytest
from apprise.manager_plugins import NotificationManager

from monitor.config.advice import check_channel_url
from monitor.config.channelurls import PLUGINS, plugin_for
from monitor.delivery.failures import not_accepted

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scheme", sorted(PLUGINS))
def test_the_table_names_the_plugin_apprise_maps_the_scheme_to(scheme):
    module, name = PLUGINS[scheme]
    cls = NotificationManager()[scheme]  # type: ignore[no-untyped-call]
    assert (cls.__module__, cls.__name__) == (module, name)


TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # apprise's documented token shape, not a real bot
# (url, read here?) -- every row also compares the plugin object with apprise.Apprise.instantiate's
URLS = [
    (f"tgram://{TOKEN}/-1001234567890", True),
    (f"tgram://{TOKEN}/-1001234567890/@channelname/12345", True),  # several chats in one URL
    (f"TGRAM://{TOKEN}/12345?format=html&silent=yes", True),  # the scheme in capitals
    (f"tgram://{TOKEN}/", True),  # no chat: apprise warns when it sends (check_channel_url says so)
    (f"tgram://{TOKEN}/not*a*chat", True),  # apprise drops the invalid chat and says so
    ("tgram://short/12345", False),  # a token apprise refuses: its own words come from its loader
    ("mailtos://user:pass%40word@smtp.example.com:465?to=a@example.com&from=b@example.com", True),
    ("mailto://user:pass@example.com", True),
    ("mailtos://user:pass@smtp.example.com?to=a@example.com,b@example.com", True),  # recipients by comma
    ("json://127.0.0.1:8080/sink", True),
    ("jsons://user:pw@hooks.example.com/path/to?:Header=1&-drop=1&+add=2", True),
    ("form://127.0.0.1/form", True),
    ("xmls://hooks.example.com/x", True),
    ("ntfy://ntfy.example.com/topic1/topic2", True),
    # a "/#" in the path: apprise reads it as part of the path, not a fragment
    # (apprise#251-style Slack channel URLs, e.g. slack://T/B/C/#general)
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", True),
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", True),
    ("json://a.example.com/x json://b.example.com/y", False),  # two URLs in one text: apprise splits it
    ("pover://user@token", False),  # a scheme not in the table: apprise's loader
    ("nosuchscheme://x", False),
    ("not a url", False),
]


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    return type(a) is type(b) and a.url(privacy=False) == b.url(privacy=False)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("url", "direct"), URLS, ids=[u[:40] for u, _ in URLS])
def test_a_url_gives_the_plugin_apprise_gives(url, direct):
    asset = apprise.AppriseAsset(async_mode=False)
    ours = plugin_for(url, asset)
    assert (ours is not None) is direct
    theirs = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=True)
    if direct:
        assert _same(ours, theirs)
        assert ours.asset is asset
        assert ours.tags == set()


# check_channel_url reads its URLs this way too: its verdicts by kind, unchanged
CHECKS = [
    (f"tgram://{TOKEN}/-1001234567890", None, ()),
    (f"tgram://{TOKEN}/", None, ("no chat id",)),
    (f"tgram://{TOKEN}/not*a*chat", None, ("dropped part", "no chat id")),
    ("tgram://short/12345", "cannot read", ()),
    ("mailtos://user:pass@/?to=a@example.com", "cannot read", ()),
    ("nosuchscheme://x", "does not know", ()),
    ("pover://user@token", None, ()),  # not in the table: apprise reads it
]


@pytest.mark.parametrize(("url", "error", "warnings"), CHECKS, ids=[c[0][:40] for c in CHECKS])
def test_check_channel_url_verdicts(url, error, warnings):
    check = check_channel_url(url)
    assert (error is None) == (check.error is None)
    if error:
        assert error in check.error
    assert len(check.warnings) == len(warnings)
    for said, needle in zip(check.warnings, warnings, strict=True):
        assert needle in said


def test_a_line_apprise_says_twice_is_reported_once():
    line = "2026-11-30 00:00:00,000 - WARNING - Invalid Telegram Bot Token specified."
    assert not_accepted(f"{line}\n{line}").reason.count("Invalid Telegram") == 1


PROBE = """
import json, sys
from monitor.config.advice import check_channel_url
from monitor.delivery.notify import send_one
from monitor.models import ChannelKind, RenderedAlert
check_channel_url({url!r})
result = send_one({url!r}, RenderedAlert(subject="s", text="t", html="<b>t</b>"), kind=ChannelKind.OTHER)
print(json.dumps(sum(m.startswith("apprise.plugins.") for m in sys.modules)))
"""

# (url, apprise's plugin modules loaded at most / at least); port 9 (discard): the send fails, fast
LOADS = [
    (f"tgram://{TOKEN}/12345", 0, 10),
    ("json://127.0.0.1:9/sink", 0, 10),
    ("pover://user@token", 100, 10_000),  # not in the table: apprise's loader, every module
]


@pytest.mark.parametrize(("url", "low", "high"), LOADS, ids=[u[0][:24] for u in LOADS])
def test_a_known_scheme_loads_one_plugin_module(url, low, high):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(url=url)], env=env, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert low <= loaded <= high
