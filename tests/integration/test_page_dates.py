"""Was broken (issue 12 red team): a page whose JSON-LD `datePublished` is a placeholder at the edge of the calendar
(.NET's `0001-01-01T00:00:00` with an offset, or `9999-12-31T23:59:59Z`) makes every try of
the item raise `OverflowError: date value out of range` (reading the date, or showing it in
the channel's time zone), so a matching article ends `failed` after 5 tries and never
alerts. Feed dates are checked (before 1995 or days ahead are dropped, README "Feeds that
lie"); page dates are not.

Issue 12: "Any exception from parsing, extracting, matching or rendering one item ... must
become a recorded error" is met; but the article itself is fine, only its date is absurd,
and the same rule as for feed dates would keep the alert. Rebuilt from
SAP/python-pyodata#80 ("0001-01-01T00:00:00" from a .NET service: OverflowError),
jelmer/xandikos#538 / PR #577 (9999-12-31 plus a shift overflows) and level12/webgrid#112
("expect an OverflowError as well as a ValueError").
"""

from __future__ import annotations

import json

import pytest

from monitor.storage import Store
from tests.support.desk import HTML, Desk, articles
from tests.support.web import Response

# (variant, datePublished in the page's JSON-LD, notify.timezone)
CASES = [
    ("far future, east of UTC", "9999-12-31T23:59:59Z", "Asia/Riyadh"),  # xandikos#538
    ("year 1 with an offset", "0001-01-01T00:00:00+03:00", "UTC"),  # python-pyodata#80
    ("year 1 naive, west of UTC", "0001-01-01T00:00:00", "America/New_York"),  # webgrid#112
]


@pytest.mark.parametrize(("variant", "date", "tz"), CASES, ids=[c[0] for c in CASES])
def test_an_absurd_page_date_does_not_cost_the_alert(tmp_path, web_server, variant, date, tz):
    desk = Desk(web_server, tmp_path, extra={"notify": {"timezone": tz}})
    (a,) = articles(1)
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a["title"],
        "articleBody": a["content"],
        "datePublished": date,
    }
    page = (
        f"<html><head><title>{a['title']}</title><script type=\"application/ld+json\">"
        f"{json.dumps(ld, ensure_ascii=False)}</script></head><body><div id=\"app\"></div></body></html>"
    )
    web_server.routes["/a.html"] = Response(200, page.encode(), HTML)
    url = web_server.url("/a.html")
    desk.set_feed("Desk", [{"title": a["title"], "link": url, "guid": "a"}])
    desk.once()
    row = Store(f"sqlite:///{tmp_path / 'm.db'}").feed_items("Desk", limit=1)[0]
    assert row.state == "alerted" and desk.alerted(url) == 1, f"{variant}: {row.state}/{row.reason_code}: {row.reason}"
