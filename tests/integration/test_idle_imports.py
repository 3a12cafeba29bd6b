"""An idle `monitor once` (every feed answers 304 Not Modified) loads none of what only
reading, matching or sending an article needs (issue 16: a process pays each import, and
an idle pass is mostly that). Each module below is imported where it is first used; a
later module-level import of any of them would put it back into every process, silently.

Two real `monitor once` processes on the same store and loopback feeds: the first works
new articles (so the probe is shown to see these modules when they are used), the second
finds every feed unchanged. No timing here: bench/versus_script.py measures the cost.
The last table checks that a configured Telegram Bot API still holds now that notify is
imported by the first send only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.desk import Desk, articles
from tests.support.web import Request, Response, WebServer, conditional

ROOT = Path(__file__).resolve().parents[2]

# (module, what needs it, loaded by a pass that works new articles through an RSS feed and a
# json:// channel: True, or None when that pass does not need it either)
LAZY = [
    ("feedparser", "parsing an RSS or Atom body (monitor.sources.rss)", True),
    ("monitor.sources.rss", "parsing an RSS or Atom body", True),
    ("monitor.sources.page", "a section page source (lxml, cssselect, RE2)", None),
    ("monitor.sources.sitemap", "a sitemap source", None),
    ("cssselect", "a page source's `links` selector", None),
    ("re2", "a page source's `link_pattern`", None),
    ("lxml.etree", "parsing a page (check, extract, soft redirect)", True),
    ("monitor.extract.article", "extracting an article", True),
    ("monitor.extract.htmlcheck", "checking a page before extraction", True),
    ("trafilatura", "extracting an article", True),
    ("monitor.matching.matcher", "matching an article (topics compiled on first use)", True),
    ("numpy", "fingerprinting an article (near copies)", True),
    ("monitor.delivery.notify", "sending through apprise", True),
    ("apprise.plugins.email", "apprise's email plugin, loaded by notify", True),
    ("apprise.plugins.telegram", "apprise's Telegram plugin, loaded by notify", True),
    ("alembic", "a store behind the schema head (the first pass creates it)", True),
    # checking a channel URL imports apprise (and requests, urllib3): the first pass keeps the
    # verdict in the store (table channel_checks), an idle pass reads it (monitor/config/checkcache.py)
    ("apprise", "checking a channel URL not checked before, or sending", True),
    ("apprise.plugins.custom_json", "checking or sending through a json:// channel", True),
    ("requests", "apprise (a channel URL check or a send)", True),
    ("urllib3", "apprise (a channel URL check or a send)", True),
    ("jinja2", "a notify.templates_dir", None),
    ("prometheus_client", "a metrics registry someone reads (the daemon)", None),
    ("sqlalchemy.dialects.postgresql", "a PostgreSQL store", None),
]

PROBE = """import json, sys
from monitor.cli.main import main
code = main(["--config", sys.argv[1], "once"])
print(json.dumps({{"code": code, "loaded": [m for m in {names!r} if m in sys.modules]}}))
"""


def _once(config: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    code = PROBE.format(names=[m for m, _, _ in LAZY])
    out = subprocess.run(
        [sys.executable, "-c", code, str(config)], env=env, cwd=config.parent, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def passes(tmp_path_factory) -> tuple[dict, dict]:
    """(the working pass's probe, the idle pass's probe), on two feeds with validators."""
    tmp = tmp_path_factory.mktemp("idle")
    with WebServer() as web:
        desk = Desk(web, tmp)
        arts = articles(4)
        answered: list[int] = []
        for f, name in enumerate(("One", "Two")):
            items = []
            for i, art in enumerate(arts[f * 2 : f * 2 + 2]):
                url = desk.page(f"/{name}/{i}.html", art)
                items.append({"title": art["title"], "link": url, "guid": url, "description": art["title"]})
            desk.set_feed(name, items, {"ETag": f'"{name}-1"'})
            serve = conditional(web.routes[f"/{name}.xml"])  # type: ignore[arg-type]

            def counted(request: Request, serve=serve) -> Response:
                response = serve(request)
                answered.append(response.status)
                return response

            web.routes[f"/{name}.xml"] = counted
        config = desk.config
        working = _once(config)
        assert answered == [200, 200] and len(desk.alerts()) >= 1, (answered, desk.alerts())
        idle = _once(config)
        assert answered[2:] == [304, 304], answered
    assert working["code"] == 0 and idle["code"] == 0
    return working, idle


@pytest.mark.parametrize(("module", "needed_by", "working_loads"), LAZY, ids=[m for m, _, _ in LAZY])
def test_an_idle_pass_does_not_import(passes, module, needed_by, working_loads):
    working, idle = passes
    if working_loads:  # the probe sees it when it is used: its absence below means something
        assert module in working["loaded"], f"the working pass did not load {module} ({needed_by})"
    assert module not in idle["loaded"], f"an idle `monitor once` imported {module}, needed only for {needed_by}"


# Composer points apprise's Telegram plugin at `notify.telegram_api_url` without importing
# notify when none is set and notify was never loaded (apprise's default is then in place).
# Configs loaded in turn in one fresh process, as the daemon reloads them: the Bot API base
# apprise uses after each, and whether notify was imported by then.
DEFAULT = "https://api.telegram.org/bot"
RELOADS = [
    ("none set", [None], [(DEFAULT, False)]),
    ("set", ["http://127.0.0.1:9"], [("http://127.0.0.1:9/bot", True)]),
    (
        "set, then none: apprise's default again",
        ["http://127.0.0.1:9/", None],
        [("http://127.0.0.1:9/bot", True), (DEFAULT, True)],
    ),
    ("none, set, none", [None, "http://h:1/bot", None], [(DEFAULT, False), ("http://h:1/bot", True), (DEFAULT, True)]),
]

COMPOSE = """import json, sys
from pathlib import Path
import yaml
from monitor.config.load import load_config
from monitor.delivery.compose import Composer
out = []
for i, api in enumerate(json.loads(sys.argv[1])):
    cfg = {"storage": "sqlite:///m.db", "feeds": [{"name": "f", "url": "https://example.org/f.xml"}],
           "channels": {"c": "json://127.0.0.1:9/x"},
           "topics": [{"id": "t", "name": "T", "any": ["السعودية"], "notify": ["c"]}]}
    if api is not None:
        cfg["notify"] = {"telegram_api_url": api}
    path = Path(f"c{i}.yaml")
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    Composer(load_config(path, env={}), store=None)
    imported = "monitor.delivery.notify" in sys.modules
    from apprise.plugins.telegram import NotifyTelegram
    out.append([NotifyTelegram.notify_url, imported])
print(json.dumps(out))
"""


@pytest.mark.parametrize(("variant", "apis", "expected"), RELOADS, ids=[r[0] for r in RELOADS])
def test_the_telegram_api_url_holds_without_notify_imported(tmp_path, variant, apis, expected):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run(
        [sys.executable, "-c", COMPOSE, json.dumps(apis)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert [tuple(r) for r in json.loads(out.stdout.strip().splitlines()[-1])] == expected, variant
