"""The item ledger says what became of an item's alert, not only that one was made:
`monitor explain URL` and `monitor feeds NAME` show ``alerted (alert dead: 1 of 1)`` when
the channel refused it for good, ``(alert pending: ...)`` while it waits, ``(alert sent)``
once delivered. Found by the red team (issue 12: an item whose alert went dead still read
`alerted`). Rebuilt from globaleaks/globaleaks-whistleblowing-software#122 (a failed
notification must be recorded and shown with the item, not only logged).
"""

from __future__ import annotations

import pytest

from monitor.cli.main import main
from tests.support.desk import Desk, articles
from tests.support.web import Response

pytestmark = pytest.mark.acceptance

# (variant, the channel's answer, what the ledger line says)
CASES = [
    ("channel refuses for good (404)", Response(404, b"no such hook"), "alerted (alert dead: 1 of 1)"),
    ("channel down (500): waits", Response(500, b"down"), "alerted (alert pending: 1 of 1)"),
    ("channel takes it", Response(200, b"{}"), "alerted (alert sent)"),
]


@pytest.mark.parametrize(("variant", "answer", "says"), CASES, ids=[c[0] for c in CASES])
def test_the_ledger_says_what_became_of_the_alert(tmp_path, web_server, capsys, variant, answer, says):
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    url = desk.page("/a.html", a)
    desk.set_feed("Desk", [{"title": a["title"], "link": url, "guid": "a"}])
    web_server.routes["/json/alerts"] = answer
    desk.once()
    capsys.readouterr()
    assert main(["--config", str(desk.config), "explain", url]) in (0, 1)
    explained = capsys.readouterr().out
    assert main(["--config", str(desk.config), "feeds", "Desk"]) == 0
    shown = capsys.readouterr().out
    assert says in explained, f"{variant}:\n{explained}"
    assert says in shown, f"{variant}:\n{shown}"
