"""A UTF-8 feed or page with a few stray bytes (a latin-1 byte pasted in by a CMS) is still
UTF-8: only those bytes are replaced. Before, one bad byte made the whole text fall through
to windows-1256 and every accented or Arabic character came out as mojibake (found by a
red-team probe; the same kind as feedparser and Miniflux reports of one bad byte turning a
whole feed into mojibake). A real windows-1256 text is still read as windows-1256."""

from __future__ import annotations

import pytest

from monitor.fetch.encoding import decode_html, decode_xml
from tests.support.corpus_pages import saudinewsnet_articles

ARABIC = saudinewsnet_articles()[0]["content"][:600]
FRENCH = "La sécurité du réseau et la défense aérienne ont été renforcées à Riyad. " * 4


def _page(text: str) -> bytes:
    return f"<html><body><p>{text}</p></body></html>".encode()


def _feed(text: str) -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?><rss><channel><title>{text}</title></channel></rss>'.encode()


@pytest.mark.parametrize("wrap", [_page, _feed], ids=["page", "feed"])
@pytest.mark.parametrize(
    "text, stray",
    [
        (FRENCH, b"\xe9"),  # latin-1 é in a French UTF-8 text
        (ARABIC, b"\xe9"),  # the same byte in an Arabic UTF-8 text
        (ARABIC, b"\x96"),  # a windows-1252 en dash
        (ARABIC, b"\xc3"),  # a UTF-8 lead byte cut from its tail
    ],
    ids=["french-latin1", "arabic-latin1", "arabic-cp1252-dash", "arabic-cut-lead"],
)
def test_a_stray_byte_keeps_the_text_utf8(wrap, text, stray):
    data = wrap(text).replace(text[:10].encode(), text[:10].encode() + stray, 1)
    decoded = decode_html(data) if wrap is _page else decode_xml(data)[0]
    assert decoded.count("\ufffd") == 1
    assert text[10:200] in decoded


def test_the_stray_bytes_are_warned_on_feeds():
    data = _feed(ARABIC).replace(ARABIC[:10].encode(), ARABIC[:10].encode() + b"\xe9", 1)
    text, warnings = decode_xml(data)
    assert any("not UTF-8" in w for w in warnings), warnings


@pytest.mark.parametrize("wrap", [_page, _feed], ids=["page", "feed"])
def test_a_real_windows_1256_text_is_not_taken_for_utf8(wrap):
    raw = wrap(ARABIC).decode().replace('encoding="utf-8"', 'encoding="windows-1256"').encode("cp1256")
    decoded = decode_html(raw, "text/html; charset=windows-1256") if wrap is _page else decode_xml(raw)[0]
    assert ARABIC[:200] in decoded and "\ufffd" not in decoded


def _browser_1252(text: str) -> str:
    """UTF-8 read by a browser as windows-1252: its five undefined bytes become U+0081..."""
    return "".join(
        chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252") for b in text.encode()
    )


@pytest.mark.parametrize("article", saudinewsnet_articles()[:12], ids=lambda a: a["url"].rsplit("/", 1)[-1][:20])
def test_browser_style_1252_mojibake_is_repaired(article):
    """«في» holds the byte 0x81, which windows-1252 leaves undefined: a browser (and many CMS
    exports) turn it into U+0081, which Python's cp1252 cannot encode back, so the repair
    used to give up on every title with «ف» in it (found by a red-team probe)."""
    from monitor.fetch.encoding import repair_runs

    title = article["title"]
    fixed, count = repair_runs("title: " + _browser_1252(title))
    assert fixed == "title: " + title
