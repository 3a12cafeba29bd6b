"""Issue 13 kinds served over loopback and polled by the real pipeline.

Soft redirects (tests/fixtures/issue13/K1-soft-redirects) and the handed field cases
F2-03 (sitemap with a blank line before <?xml), F2-05 (body only in JSON-LD), F2-06
(a teaser with an unlisted label) and F2-10 (UTF-8 feeds labelled windows-1256), each
with the right result from ../shared/field-cases/README.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from monitor.config.load import parse_config
from monitor.dedup.keys import normalize_url
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from tests.support.web import Response, WebServer

FIX = Path(__file__).parent.parent / "fixtures"
_TYPES = {".xml": "application/xml", ".html": "text/html; charset=utf-8", ".opml": "text/xml"}


def port_of(web: WebServer) -> str:
    return web.base_url.rsplit(":", 1)[1].rstrip("/")


def serve(web: WebServer, case: Path) -> None:
    """Every file under case/www at its path, {{PORT}} filled in, headers from headers.json."""
    headers = json.loads((case / "headers.json").read_text()) if (case / "headers.json").exists() else {}
    port = port_of(web).encode()
    for path in (case / "www").rglob("*"):
        if path.is_file():
            route = "/" + path.relative_to(case / "www").as_posix()
            given = headers.get(route, {})
            head = {"Content-Type": _TYPES.get(path.suffix, "text/html; charset=utf-8"), **given}
            web.routes[route] = Response(200, path.read_bytes().replace(b"{{PORT}}", port), head)
    web.routes["/json/alerts"] = Response(200, "{}", {"Content-Type": "application/json"})


def load(case: Path, web: WebServer, tmp_path: Path, **overrides):
    text = (case / "config.yaml").read_text(encoding="utf-8").replace("{{PORT}}", port_of(web))
    raw = yaml.safe_load(text)
    raw["storage"] = f"sqlite:///{tmp_path / 'm.db'}"
    raw.setdefault("defaults", {})["backfill"] = "off"  # the cases' items carry old dates
    raw.update(overrides)
    return parse_config(yaml.safe_dump(raw, allow_unicode=True), path=tmp_path / "config.yaml", env={})


def run(cfg, *, polls: int = 1):
    store, fetcher = Store(cfg.storage_url), Fetcher.from_config(cfg)
    try:
        pipeline = Pipeline(cfg, store, fetcher)
        reports = [pipeline.poll_feed(feed, force=True) for _ in range(polls) for feed in cfg.feeds]
        pipeline.deliver()
        stored = {a.url: a for a in store.articles_since(datetime(2000, 1, 1, tzinfo=UTC))}
        with store.engine.begin() as conn:
            sources = dict(conn.execute(text("SELECT url, text_source FROM articles WHERE status = 'done'")).all())
        return reports, stored, sources
    finally:
        fetcher.close()
        store.close()


def alerts(web: WebServer) -> list[dict]:
    return [r.json() for r in web.requests_for("/json/alerts") if r.method == "POST"]


# ------------------------------------------------------------------ K1 soft redirects
K1 = FIX / "issue13" / "K1-soft-redirects"
K1_TOPIC = {"id": "iran", "name": "Iran", "all": [["إيران", "طهران"], ["مجلس الأمن"]], "notify": ["capture"]}


def k1_config(web: WebServer, tmp_path: Path):
    raw = {
        "storage": f"sqlite:///{tmp_path / 'm.db'}",
        "defaults": {"backfill": "off"},  # the case's items carry old dates
        # loopback allowed by name, so netguard still refuses the link-local metadata address
        "fetch": {"allowed_networks": ["127.0.0.0/8"]},
        "feeds": [{"name": "Alerts", "url": web.url("/rss.xml")}],
        "channels": {"capture": f"json://127.0.0.1:{port_of(web)}/json/alerts"},
        "topics": [K1_TOPIC],
    }
    return parse_config(yaml.safe_dump(raw, allow_unicode=True), path=tmp_path / "config.yaml", env={})


def test_soft_redirects_end_at_one_article(web_server, tmp_path):
    serve(web_server, K1)
    cfg = k1_config(web_server, tmp_path)
    reports, stored, sources = run(cfg, polls=2)
    iran = web_server.url("/2015/07/20/iran.html")
    obama = web_server.url("/2015/07/21/obama.html")
    loop = web_server.url("/r/loop-b.html")  # a refresh loop ends at the page it came back from
    # iran (7 links, one article), obama (2 links, one headline: both listed in one poll, so both
    # are read and the text decides: the second is a copy, no second alert) and the loop's page
    assert reports[0].ok and reports[0].new == 4
    assert reports[1].new == 0
    assert set(stored) == {iran, obama, loop, web_server.url("/2015/07/21/obama-home.html")}
    assert sources[iran] == "page" and "وافق مجلس الأمن الدولي" in stored[iran].body
    assert sources[obama] == "page"  # a refresh without URL / with a long delay is not followed
    assert web_server.requests_for("/url") == [] and web_server.requests_for("/l.php") == []  # unwrapped, not fetched
    # the second poll recognises each interstitial link without fetching it again
    for path in ("/r/meta0.html", "/r/alert.html", "/r/jsonly.html", "/r/header.html"):
        assert len(web_server.requests_for(path)) == 1, path
    assert len(alerts(web_server)) == 2
    assert sum(iran in a["message"] for a in alerts(web_server)) == 1


def test_soft_redirect_loop_ends_at_a_page_and_ssrf_is_a_page_failure(web_server, tmp_path):
    serve(web_server, K1)
    cfg = k1_config(web_server, tmp_path)
    run(cfg, polls=1)
    store = Store(cfg.storage_url)
    try:
        known = store.known(normalize_url(web_server.url("/r/ssrf.html")), "Alerts", "")
        assert known is not None and known.status == "fetch_failed"
        # loop-a -> loop-b -> (loop-a again): browsers stop; so do we, at loop-b, with no error
        known = store.known(normalize_url(web_server.url("/r/loop-b.html")), "Alerts", "")
        assert known is not None and known.status == "done"
    finally:
        store.close()
    assert len(web_server.requests_for("/r/loop-a.html")) == 1 and len(web_server.requests_for("/r/loop-b.html")) == 1


def test_soft_redirect_refused_by_netguard():
    fetcher = Fetcher(timeout=5, user_agent="t", allowed_networks=("127.0.0.0/8",))
    with WebServer() as web:
        web.routes["/r"] = Response(200, (K1 / "www/r/ssrf.html").read_bytes(), {"Content-Type": "text/html"})
        try:
            with pytest.raises(Exception, match="169.254.169.254"):
                fetcher.get(web.url("/r"))
        finally:
            fetcher.close()


def test_fetch_result_records_the_hops(web_server):
    serve(web_server, K1)
    fetcher = Fetcher(timeout=5, user_agent="t", allow_private_networks=True)
    try:
        page = fetcher.get(web_server.url("/r/alert.html"))
        plain = fetcher.get(web_server.url("/r/alert.html"), follow_soft=False)
    finally:
        fetcher.close()
    assert page.url == web_server.url("/2015/07/20/iran.html")
    assert page.via == ((web_server.url("/r/alert.html"), "meta-refresh"),)
    assert plain.url == web_server.url("/r/alert.html") and plain.via == ()


# ------------------------------------------------------------------ handed field cases
CASES = FIX / "field-cases" / "feeds"


def test_f2_03_sitemap_with_a_blank_line_before_the_declaration(web_server, tmp_path):
    case = CASES / "F2-03-sitemap-leading-whitespace"
    serve(web_server, case)
    reports, stored, _ = run(load(case, web_server, tmp_path))
    assert reports[0].ok and reports[0].new == 1 and reports[0].matched == 1
    assert not reports[0].warning
    assert len(alerts(web_server)) == 1


def test_f2_05_body_only_in_json_ld(web_server, tmp_path):
    case = CASES / "F2-05-jsonld-only-body"
    serve(web_server, case)
    reports, stored, sources = run(load(case, web_server, tmp_path))
    article = stored[web_server.url("/news/a1")]
    assert sources[article.url] == "jsonld"
    assert "شرط التزام ايران حرفيا بالاتفاق" in article.body
    assert reports[0].matched == 1 and len(alerts(web_server)) == 1


def test_f2_06_teaser_with_an_unlisted_label(web_server, tmp_path):
    case = CASES / "F2-06-read-also-unlisted-label"
    serve(web_server, case)
    reports, stored, sources = run(load(case, web_server, tmp_path))
    (article,) = stored.values()
    assert sources[article.url] == "page" and "قد يهمك" not in article.body and "مجلس الأمن" not in article.body
    assert reports[0].new == 1 and reports[0].matched == 0 and alerts(web_server) == []


def test_f2_10_utf8_feeds_labelled_windows_1256(web_server, tmp_path):
    case = CASES / "F2-10-utf8-feed-labelled-1256"
    serve(web_server, case)
    reports, stored, _ = run(load(case, web_server, tmp_path))
    assert [r.matched for r in reports] == [1, 1]
    assert all("windows-1256" in r.warning for r in reports)
    titles = {a.title for a in stored.values()}
    assert titles == {
        "مجلس الأمن يصادق على الاتفاق النووي مع إيران",
        "أوباما يتحدى الكونغرس ويذهب بالاتفاق النووي إلى مجلس الأمن",
    }
    sent = alerts(web_server)
    assert len(sent) == 2
    for alert in sent:  # the alert carries the right title, not mojibake
        assert any(t in alert["title"] + alert["message"] for t in titles), alert


@pytest.mark.parametrize("kind,path", [("rss", "/feed.xml"), ("sitemap", "/sitemap.xml"), ("page", "/section.html")])
def test_a_source_url_that_soft_redirects_is_followed(web_server, tmp_path, kind, path):
    """python-insider-blog #16 / feedbin #22: the configured feed URL answers a meta refresh."""
    case = CASES / "F2-03-sitemap-leading-whitespace"
    serve(web_server, case)
    target = {
        "rss": (
            FIX / "issue13" / "K4-feed-decoding" / "cp1256-honest.xml",
            "application/rss+xml; charset=windows-1256",
        ),
        "sitemap": (case / "www" / "sitemap-news.xml", "application/xml"),
        "page": (None, "text/html; charset=utf-8"),
    }[kind]
    body = (
        target[0].read_bytes().replace(b"{{PORT}}", port_of(web_server).encode())
        if target[0]
        else b'<html><body><h3><a href="/2015/07/21/a1.html">a1 headline</a></h3></body></html>'
    )
    web_server.routes["/moved" + path] = Response(200, body, {"Content-Type": target[1]})
    web_server.routes[path] = Response(
        200, f'<meta http-equiv="refresh" content="0; url=/moved{path}">', {"Content-Type": "text/html"}
    )
    feed = {"name": "moved", "url": web_server.url(path), "kind": kind}
    if kind == "page":
        feed["links"] = "h3 a"
    cfg = load(case, web_server, tmp_path, feeds=[feed])
    reports, _, _ = run(cfg)
    assert reports[0].ok and reports[0].items >= 1, reports[0]
