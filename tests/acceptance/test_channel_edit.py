"""An alert waiting for a retry when the user renames or removes its channel is
"stranded", never silently parked: it stays pending (nothing is dropped), `monitor once`
counts it (`stranded=1`) and says how to hand it on, `monitor outbox` lists it as
`stranded` with "never" as its next try, `monitor status --json` counts it per channel,
and it is sent as soon as a channel of that name is back, or after `monitor outbox move
OLD NEW` (its per-target progress kept: a target that had it does not get it twice).

Found by the red team (issue 12 item 12: `once` printed sent=0 retrying=0 dead=0 and
`outbox` showed a next try that never came). Rebuilt from moira-alert/notifier#2 (a
contact type renamed in the config: its queued notifications retried "forever" with only
log lines) and ansible/awx#1969 / #8525 (notifications stuck "pending" with no way to see
why or resend them).
"""

from __future__ import annotations

import json

import pytest
import yaml

from monitor.cli.main import main
from tests.support.desk import Desk, articles
from tests.support.web import Response

pytestmark = pytest.mark.acceptance


def edit(path, channels: dict, notify: list[str]) -> None:
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["channels"], cfg["topics"][0]["notify"] = channels, notify
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")


def run(capsys, path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--config", str(path), *args])
    return code, capsys.readouterr().out


# (variant, channels after the edit (OLD: the first URL, OTHER: another), the user's fix:
#  ("move", NEW) or ("restore", None), path that must get the alert once)
CASES = [
    # moira-alert/notifier#2: the transport renamed in the config, same URL
    ("renamed, same URL, moved", {"alerts": "OLD"}, ("move", "alerts"), "/json/alerts"),
    # ansible/awx#1969: the target removed while a notification is pending
    ("removed, topic moved to another, moved", {"other": "OTHER"}, ("move", "other"), "/json/other"),
    # ansible/awx#8525: pending with no way to see why; the user puts the channel back
    ("removed, then restored", {"other": "OTHER"}, ("restore", None), "/json/alerts"),
]


@pytest.mark.parametrize(("variant", "after", "fix", "dest"), CASES, ids=[c[0] for c in CASES])
def test_an_alert_of_an_edited_channel_is_reported_then_delivered_once(
    tmp_path, web_server, capsys, variant, after, fix, dest
):
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    desk.set_feed("Desk", [{"title": a["title"], "link": desk.page("/a.html", a), "guid": "a"}])
    web_server.routes["/json/alerts"] = Response(500, b"down")  # the first send fails: the alert waits
    assert desk.once() == 0
    path = desk.config
    urls = {"OLD": desk.web.url("/json/alerts"), "OTHER": desk.web.url("/json/other")}
    channels = {name: urls[u].replace("http://", "json://") for name, u in after.items()}
    edit(path, channels, list(channels))
    web_server.routes["/json/alerts"] = Response(200, b"{}")
    web_server.routes["/json/other"] = Response(200, b"{}")

    code, out = run(capsys, path, "once")
    assert code == 0 and "stranded=1" in out and "channel not in config" in out, f"{variant}:\n{out}"
    assert "monitor outbox move cap NEW" in out
    _, listing = run(capsys, path, "outbox")
    row = next(line for line in listing.splitlines() if line.strip().startswith("1 "))
    assert "stranded" in row and "never" in row, f"{variant}:\n{listing}"
    _, status = run(capsys, path, "status", "--json")
    assert json.loads(status)["outbox"]["stranded"] == {"cap": 1}
    assert not web_server.requests_for(dest) or dest == "/json/alerts"  # nothing sent while stranded
    before = len(web_server.requests_for(dest))

    how, new = fix
    if how == "move":
        code, out = run(capsys, path, "outbox", "move", "cap", new)
        assert code == 0 and "moved 1 pending alert" in out, out
    else:
        edit(path, {"cap": urls["OLD"].replace("http://", "json://")}, ["cap"])
    code, out = run(capsys, path, "once")
    assert "sent=1" in out and "stranded=0" in out, f"{variant}:\n{out}"
    run(capsys, path, "once")  # and never again
    assert len(web_server.requests_for(dest)) - before == 1, f"{variant}: not delivered exactly once"


# (variant, args, exit code, words of the message)
MOVES = [
    ("new channel not in config", ["outbox", "move", "cap", "nope"], 2, "unknown channel"),
    ("one name only", ["outbox", "move", "cap"], 2, "OLD and NEW"),
    ("retry with a word for an id", ["outbox", "retry", "cap"], 2, "numbers"),
]


@pytest.mark.parametrize(("variant", "args", "code", "words"), MOVES, ids=[c[0] for c in MOVES])
def test_outbox_move_refuses_what_it_cannot_do(tmp_path, web_server, capsys, variant, args, code, words):
    desk = Desk(web_server, tmp_path)
    desk.set_feed("Desk", [])
    assert main(["--config", str(desk.config), *args]) == code, variant
    assert words in capsys.readouterr().err, variant


# (variant, feeds after the edit: the old feed's name -> None (removed) or a new name)
FEED_EDITS = [
    # moira-alert/notifier#2 (same kind, a renamed source): its queued work shown nowhere
    ("feed renamed", "Desk 2"),
    ("feed removed", None),
]


@pytest.mark.parametrize(("variant", "new_name"), FEED_EDITS, ids=[c[0] for c in FEED_EDITS])
def test_pending_items_of_a_removed_feed_are_shown_waiting(tmp_path, web_server, capsys, variant, new_name):
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    url = desk.page("/a.html", a)
    web_server.routes["/a.html"] = Response(503, b"busy")  # the page fails: the item waits (page retry)
    desk.set_feed("Desk", [{"title": a["title"], "link": url, "guid": "a"}])
    desk.once()
    path = desk.config
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["feeds"] = (
        [{**cfg["feeds"][0], "name": new_name}]
        if new_name
        else [{"name": "Other", "url": cfg["feeds"][0]["url"] + "?other"}]
    )
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    _, status = run(capsys, path, "status", "--json")
    old = next(r for r in json.loads(status)["feeds"] if r["feed"] == "Desk")
    assert (old["in_config"], old["items_pending"]) == (False, 1), f"{variant}: {old}"
    _, shown = run(capsys, path, "status")
    assert "waiting: 1 pending item(s) of feed 'Desk'" in shown, f"{variant}:\n{shown}"
