"""The extraction stage's shortcuts (issue 16) give the answers of the long way, and take them.

Each shortcut skips work a cheap test proves useless: the page scan of ``check_page`` when the
page has too few tags to break a budget, the mojibake tests that need a Latin-1 letter when the
text has none, full normalization of a paragraph that a prefix proves longer than any label,
one walk of the tree for the title's <meta>/<title> texts. Tables of variants compare each with
the long way (the code before the shortcut, kept here as the reference); a second test per
shortcut counts the work skipped (no timing). Inputs are built here; the reports they mirror:

- nesting: libxml2 silently drops text nested deeper than 256 levels without huge_tree
  (https://github.com/dgunning/edgartools/pull/1114, https://github.com/scrapy/parsel/issues/110);
  the page budget refuses 1,000 levels before the parser sees them.
- mojibake: Arabic feeds in windows-1256 shown as Latin letters
  (https://github.com/miniflux/miniflux-legacy/issues/316), UTF-8 Arabic read as windows-1252,
  "Ø¨Ø³Ù…" (https://github.com/beakerbrowser/beaker/issues/797).
- titles: og:title against <title> (https://github.com/omnivore-app/omnivore/issues/1769), og:title
  carrying the site name (https://github.com/adbar/trafilatura/pull/824,
  https://github.com/goose3/goose3/issues/123).
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from monitor.errors import ExtractError
from monitor.extract import article, htmlcheck
from monitor.fetch import encoding, scan
from monitor.fetch.budget import Budget

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARABIC = (FIXTURES / "pages" / "cnn-arabic-2013.html").read_bytes().decode("utf-8")


def _arabic_run(n: int) -> str:
    """The first ``n`` characters of the fixture page's longest text run (real Arabic)."""
    root = lxml.html.document_fromstring(ARABIC)
    runs = (" ".join(t.split()) for t in root.itertext())
    run = " ".join(r for r in runs if sum("\u0621" <= c <= "\u064a" for c in r) > len(r) / 2)
    assert len(run) >= n
    return run[:n].strip()


# ---- check_page: no scan when the '<' count proves the page within budget -----------------
def _nest(depth: int, tag: str = "div") -> str:
    return f"<html><body>{f'<{tag}>' * depth}x{f'</{tag}>' * depth}</body></html>"


PAGES = {
    "deep at the limit": _nest(8),
    "one past the limit": _nest(9),
    "deep inside comments": "<html><body><!--" + "<div>" * 30 + "-->x</body></html>",
    "deep inside a script": "<html><body><script>" + "<div>" * 30 + "</script></body></html>",
    "doctype and pi": "<!DOCTYPE html><?xml version='1.0'?><html><body>" + "<b>" * 9 + "</body></html>",
    "voids": "<html><body>" + "<br>" * 20 + "</body></html>",
    "many closers": "<html><body>" + "</div>" * 50 + "<p>x</p></body></html>",
    "flat over the element budget": "<html><body>" + "<p>x</p>" * 30 + "</body></html>",
    "stray less-than signs": "<html><body>" + "a < b " * 20 + "<i><i><i>x</i></i></i></body></html>",
}


def _check_the_long_way(text: str, budget: Budget) -> tuple[str, str] | str:
    found = scan.scan_html(text, max_depth=budget.max_page_depth, max_elements=budget.max_elements)
    if found.depth > budget.max_page_depth:
        return "too deep"
    if found.cut is not None:
        return text[: found.cut], "cut"
    return text, ""


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize(("depth", "elements"), [(10, 1000), (10, 25), (1000, 40_000)])
def test_check_page_answers_as_the_scan_does(name: str, depth: int, elements: int) -> None:
    text, budget = PAGES[name], Budget(max_page_depth=depth, max_elements=elements)
    found = scan.scan_html(text)
    assert found.elements <= htmlcheck.start_tags_at_most(text) and found.depth <= htmlcheck.start_tags_at_most(text)
    want = _check_the_long_way(text, budget)
    try:
        checked = htmlcheck.check_page(text, "u", budget)
    except ExtractError as exc:
        assert want == "too deep" and "levels deep" in str(exc)
        return
    assert (checked.text, "cut" if checked.warning else "") == want


def test_a_page_with_few_tags_is_not_scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = htmlcheck.scan_html
    monkeypatch.setattr(htmlcheck, "scan_html", lambda text, **kw: calls.append(1) or real(text, **kw))
    htmlcheck.check_page(_nest(200), "u")  # 402 start tags: under 1,000 levels and 40,000 elements
    htmlcheck.check_depth(_nest(200))
    assert calls == []
    with pytest.raises(ExtractError, match="levels deep"):
        htmlcheck.check_page(_nest(1001), "u")
    assert calls == [1]


# ---- looks_mojibake: a text without a Latin-1 letter is settled by the windows-1256 test ----
def _mojibake_the_long_way(text: str) -> bool:
    """looks_mojibake as it read before the shortcut."""
    if "\ufffd" in text and text.count("\ufffd") * 50 > len(text):
        return True
    if len(encoding._UTF8_AS_LATIN.findall(text)) >= 3:
        return True
    as1256 = len(encoding._UTF8_AS_1256.findall(text))
    if as1256 >= 2 and as1256 * 5 >= len(encoding._ARABIC.findall(text)):
        return True
    mixed = len(encoding._MIXED.findall(text))
    if mixed >= 3 and mixed * 100 > len(encoding._ARABIC.findall(text)):
        return True
    high = len(encoding._LATIN_HIGH.findall(text))
    if high < 5:
        return False
    return high > len(encoding._ARABIC.findall(text)) and high * 3 > len(encoding._ASCII_LETTER.findall(text))


def _texts() -> dict[str, str]:
    arabic = _arabic_run(400)
    raw = arabic.encode("utf-8")
    return {
        "clean arabic": arabic,
        "utf-8 read as windows-1252": raw.decode("windows-1252", "replace"),
        "utf-8 read as latin-1": raw.decode("latin-1"),
        "utf-8 read as windows-1256": raw.decode("windows-1256", "replace"),
        "iso-8859-6 read as windows-1256": arabic.encode("iso-8859-6", "replace").decode("windows-1256", "replace"),
        "french accents": "Le président a déclaré à la télévision que l'été serait chaud. " * 3,
        "times and divide beside arabic": arabic[:60] + " × " + arabic[60:120] + " ÷ " + arabic[120:],
        "replacement characters": arabic[:100] + "\ufffd" * 5,
        "ascii": "plain English text with no accents at all " * 5,
    }


@pytest.mark.parametrize("name", sorted(_texts()))
def test_looks_mojibake_answers_as_every_test_does(name: str) -> None:
    text = _texts()[name]
    assert encoding.looks_mojibake(text) is _mojibake_the_long_way(text)


class _Untouchable:
    def findall(self, text: str) -> list[str]:
        raise AssertionError("a test that needs a Latin-1 letter ran on a text without one")


def test_clean_arabic_is_not_scanned_for_latin_mojibake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding, "_MIXED", _Untouchable())
    monkeypatch.setattr(encoding, "_UTF8_AS_LATIN", _Untouchable())
    assert encoding.decode_html(ARABIC.encode("utf-8")) == ARABIC


# ---- _postprocess: a paragraph is not normalized whole ------------------------------------
def _postprocess_the_long_way(text: str, title: str) -> list[str]:
    """article._postprocess as it read before the shortcut."""
    lines: list[str] = []
    prose = 0
    title_low = article._norm(title)
    for line in (article._text(s.strip(" |")) for s in text.splitlines()):
        low = article._norm(line)
        if not low or (lines and line == lines[-1]) or low == title_low:
            continue
        if len(low.split()) <= 6 and all(w in article._FURNITURE for w in low.split()):
            continue
        if article._INLINE.match(low) and len(line) <= 300:
            continue
        if len(line) <= 45 and article._END.match(low):
            if prose >= article._MIN_BEFORE:
                break
            continue
        lines.append(line)
        prose += len(line) if len(line) >= article._PROSE else 0
    while lines and article._boilerplate(lines[-1]) and len(lines[-1]) < 600:
        lines.pop()
    return lines


def _bodies() -> dict[str, tuple[str, str]]:
    para, long_title = _arabic_run(700), _arabic_run(340)
    furniture = sorted(article._FURNITURE, key=len)[-1]
    stretched = "\u0640".join(furniture) + "\u0640" * 320  # kashida-stretched furniture word, over 300 characters
    return {
        "paragraphs": (f"{para[:400]}\n{para[300:]}\n{para[:350]}", para[:50]),
        "repeated paragraph": (f"{para}\n{para}\n{para[:320]}", para[:40]),
        "paragraph equal to a long title": (f"{long_title}\n{para}", long_title),
        "punctuation only": ("!" * 400 + "\n" + para, para[:30]),
        "stretched furniture": (f"{stretched}\n{para}", para[:30]),
        "diacritics only": ("\u064e" * 400 + "\n" + para, para[:30]),
    }


@pytest.mark.parametrize("name", sorted(_bodies()))
def test_postprocess_keeps_the_same_lines(name: str) -> None:
    text, title = _bodies()[name]
    assert article._postprocess(text, title) == _postprocess_the_long_way(text, title)


def test_a_paragraph_is_not_normalized_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    para = _arabic_run(700)
    seen: list[int] = []
    real = article._norm
    monkeypatch.setattr(article, "_norm", lambda s: seen.append(len(s)) or real(s))
    assert article._postprocess(f"{para}\n{para[:500]}", para[:40]) == [para, para[:500].strip()]
    assert max(seen) < 500


# ---- _title: one walk finds the <meta> and <title> texts ----------------------------------
HEADS = {
    "og and title": "<meta property='og:title' content='{a}'><title>{a} - {s}</title>",
    "name instead of property": "<meta name='og:title' content='{a}'><meta name='og:site_name' content='{s}'>",
    "first without content": "<meta property='og:title'><meta property='og:title' content='{a}'>",
    "twitter only": "<meta name='twitter:title' content='{a} | {s}'><title>{s}</title>",
    "empty title then svg title": "<title></title>",
    "site name equals the title": "<meta property='og:site_name' content='{s}'><title>{s}</title>",
    "two og titles": "<meta property='og:title' content='{s}'><meta property='og:title' content='{a}'>",
}


def _title_the_long_way(root: lxml.html.HtmlElement) -> str:
    def meta(prop: str) -> str:
        return article._text(" ".join(root.xpath(f'//meta[@property="{prop}" or @name="{prop}"]/@content')[:1]))

    site, og = meta("og:site_name"), meta("og:title") or meta("twitter:title")
    h1s = [
        t
        for t in (article._text(h.text_content()) for h in root.iter("h1"))
        if t and article._norm(t) != article._norm(site)
    ]
    page = article._strip_site(article._text(" ".join(root.xpath("//title/text()")[:1])), site, h1s + [og])
    for h in h1s:
        if any(
            o and (article._norm(h) in article._norm(o) or article._norm(o) in article._norm(h)) for o in (og, page)
        ):
            return h
    og = article._strip_site(og, site, h1s)
    return next((t for t in (og, page, *h1s) if t and article._norm(t) != article._norm(site)), "")


@pytest.mark.parametrize("name", sorted(HEADS))
@pytest.mark.parametrize("h1", ["", "<h1>{a}</h1>", "<h1>{s}</h1>"])
def test_title_is_found_as_before(name: str, h1: str) -> None:
    headline, site = _arabic_run(60).rsplit(" ", 1)[0], _arabic_run(12).split(" ")[0]
    body = h1 + "<svg><title>svg</title></svg><meta property='og:title' content='late'><p>x</p>"
    page = f"<html><head>{HEADS[name]}</head><body>{body}</body></html>".format(a=headline, s=site)
    root = lxml.html.document_fromstring(page)
    assert article._title(root) == _title_the_long_way(lxml.html.document_fromstring(page))


def test_title_walks_the_tree_once(monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[int] = []
    real = article._TITLE_PARTS
    monkeypatch.setattr(article, "_TITLE_PARTS", lambda root: walks.append(1) or real(root))
    root = lxml.html.document_fromstring(ARABIC)
    assert article._title(root) == _title_the_long_way(lxml.html.document_fromstring(ARABIC))
    assert walks == [1]
