"""Arabic pages and feeds in legacy charsets, mislabelled, with BOMs or late <meta>:
decoded right (the Arabic letters survive), or flagged; never stored as mojibake."""

from __future__ import annotations

import codecs
import html
from datetime import UTC, datetime

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.fetch.encoding import MojibakeError, decode_html, looks_mojibake
from monitor.pipeline import Pipeline
from monitor.sources.rss import parse_feed_result
from monitor.storage import Store
from tests.support.corpus_pages import saudinewsnet_articles
from tests.support.web import Response


def _fits(text: str, enc: str) -> bool:
    try:
        text.encode(enc)
        return True
    except UnicodeEncodeError:
        return False


def corpus_text(enc: str, n: int = 3) -> list[tuple[str, str]]:
    """(title, first paragraph) of real articles whose text the legacy charset can hold."""
    out = []
    for art in saudinewsnet_articles("2015-07-23"):
        para = art["content"].split("\n")[0][:600]
        if len(para) > 200 and _fits(art["title"] + para, enc):
            out.append((art["title"], para))
        if len(out) == n:
            return out
    raise AssertionError(f"the excerpt has too few articles that fit {enc}")


def page(title: str, para: str, meta: str | None = None, late: bool = False) -> str:
    filler = "".join(f"<script>var s{i} = {i};</script>" for i in range(3000)) if late else ""
    tag = f'<meta charset="{meta}">' if meta else ""
    return (
        f"<html><head><title>{html.escape(title)}</title>{filler}{tag}</head>"
        f"<body><article><h1>{html.escape(title)}</h1><p>{html.escape(para)}</p></article></body></html>"
    )


CASES = [
    # (bytes encoding, HTTP charset, <meta charset>, late meta)
    ("windows-1256", "windows-1256", None, False),
    ("windows-1256", None, "windows-1256", False),
    ("windows-1256", None, "windows-1256", True),  # declared after 100 KB of scripts
    ("windows-1256", None, None, False),  # nothing declared
    ("windows-1256", "iso-8859-1", "iso-8859-1", False),  # mislabelled as Latin
    ("windows-1256", "utf-8", None, False),  # mislabelled as UTF-8
    ("iso-8859-6", "iso-8859-6", None, False),
    ("iso-8859-6", None, "iso-8859-6", True),
    ("iso-8859-6", "windows-1256", None, False),  # the other Arabic code page declared
    ("windows-1256", "iso-8859-6", None, False),
    ("utf-8", "windows-1256", "windows-1256", False),  # UTF-8 bytes, legacy label
]


@pytest.mark.parametrize("enc,http,meta,late", CASES)
def test_arabic_pages_decode_right(enc, http, meta, late):
    for title, para in corpus_text(enc):
        data = page(title, para, meta, late).encode(enc)
        text = decode_html(data, f"text/html; charset={http}" if http else "text/html")
        assert para in text and title in text


@pytest.mark.parametrize(
    "bom,enc", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_a_bom_wins_over_a_wrong_label(bom, enc):
    title, para = corpus_text("utf-8", 1)[0]
    data = bom + page(title, para, "windows-1256").encode(enc)
    assert para in decode_html(data, "text/html; charset=iso-8859-1")


def test_utf8_mojibake_is_repaired():
    title, para = corpus_text("utf-8", 1)[0]
    broken = page(title, para).encode("utf-8").decode("latin-1").encode("utf-8")  # double-encoded
    assert para in decode_html(broken, "text/html; charset=utf-8")


def test_unrecoverable_mojibake_is_an_error_not_text():
    title, para = corpus_text("utf-8", 1)[0]
    lossy = page(title, para).encode("utf-8").decode("windows-1252", "replace").encode("utf-8")
    assert looks_mojibake(lossy.decode("utf-8"))
    with pytest.raises(MojibakeError, match="does not decode cleanly"):
        decode_html(lossy, "text/html; charset=utf-8")


def test_latin_text_is_not_taken_for_mojibake():
    assert not looks_mojibake("Le président a été reçu à l'Élysée après une journée très chargée à Genève.")


@pytest.mark.parametrize("enc", ["windows-1256", "iso-8859-6"])
def test_legacy_feeds_keep_their_arabic(enc):
    items = corpus_text(enc)
    body = "".join(
        f"<item><title>{html.escape(t)}</title><link>http://example.org/{i}</link>"
        f"<description>{html.escape(p)}</description></item>"
        for i, (t, p) in enumerate(items)
    )
    feed = (
        f'<?xml version="1.0" encoding="{enc}"?><rss version="2.0"><channel><title>x</title>{body}</channel></rss>'
    ).encode(enc)
    result = parse_feed_result("f", feed, "http://example.org/")
    assert [i.title for i in result.items] == [t for t, _ in items]
    assert not result.warnings or "mis-decoded" not in " ".join(result.warnings)


def test_a_feed_whose_charset_lies_is_flagged():
    items = corpus_text("windows-1256")
    body = "".join(
        f"<item><title>{html.escape(t)}</title><link>http://example.org/{i}</link></item>"
        for i, (t, _) in enumerate(items)
    )
    feed = (
        f'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>x</title>{body}</channel></rss>'
    ).encode("windows-1256")
    result = parse_feed_result("f", feed, "http://example.org/")
    assert any("mis-decoded" in w for w in result.warnings)


def test_pipeline_stores_arabic_from_legacy_pages_and_flags_mojibake(web_server, tmp_path):
    (t1, p1), (t2, p2) = corpus_text("windows-1256", 2)
    paras = [p1 + " " + p1, p2 + " " + p2]  # long enough to be taken as the article
    web_server.routes["/a.html"] = Response(
        200, page(t1, paras[0]).encode("windows-1256"), {"Content-Type": "text/html; charset=iso-8859-1"}
    )
    lossy = page(t2, paras[1]).encode("utf-8").decode("windows-1252", "replace").encode("utf-8")
    web_server.routes["/b.html"] = Response(200, lossy, {"Content-Type": "text/html; charset=utf-8"})
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
        + "".join(
            f"<item><title>{html.escape(t)}</title><link>{web_server.url(p)}</link>"
            f"<description>{html.escape(t)}</description></item>"
            for t, p in ((t1, "/a.html"), (t2, "/b.html"))
        )
        + "</channel></rss>"
    ).encode()
    web_server.routes["/feed.xml"] = Response(200, feed, {"Content-Type": "application/rss+xml"})
    cfg = parse_config(
        yaml.safe_dump(
            {
                "storage": f"sqlite:///{tmp_path / 'm.db'}",
                "defaults": {"backfill": "off"},  # old dates
                "fetch": {"allow_private_networks": True},
                "feeds": [{"name": "legacy", "url": web_server.url("/feed.xml")}],
                "channels": {"mail": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
                "topics": [{"id": "t", "name": "T", "any": ["xyzzy"], "notify": ["mail"]}],
            },
            allow_unicode=True,
        ),
        path=tmp_path / "config.yaml",
        env={},
    )
    store, fetcher = Store(cfg.storage_url), Fetcher.from_config(cfg)
    try:
        assert Pipeline(cfg, store, fetcher).poll_feed(cfg.feeds[0]).new == 2
        stored = {a.url: a for a in store.articles_since(datetime(2000, 1, 1, tzinfo=UTC))}
    finally:
        fetcher.close()
        store.close()
    assert p1 in stored[web_server.url("/a.html")].body  # Arabic survived the lying label
    fallback = stored[web_server.url("/b.html")]
    assert fallback.body == t2 and not looks_mojibake(fallback.title + fallback.body)  # feed text, not mojibake
