"""trafilatura's main extractor alone (fast=True) first, its fallbacks only when that finds
no prose: the text must be exactly what always running the fallbacks gave (issue 16).

Pages: every HTML page under tests/fixtures (field cases, security, issue folders: real
layouts, soft redirects, app shells), the seed reports in all six page styles, and
SaudiNewsNet excerpts built into pages (tests/support/corpus_pages.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ExtractError
from monitor.extract import article
from tests.support import corpus_pages as cp

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _pages() -> list[tuple[str, str | None, str | bytes]]:
    pages: list[tuple[str, str | None, str | bytes]] = [
        (str(p.relative_to(FIXTURES)), None, p.read_bytes()) for p in sorted(FIXTURES.rglob("*.html"))
    ]
    for seed in cp.seed_reports():
        for style in cp.STYLES:
            pages.append((f"seed {seed.name} style {style}", seed.url, cp.seed_page(seed, style=style)))
    arts = [a for d in cp.DAYS for a in cp.saudinewsnet_articles(d, limit=12) if len(a["content"]) >= 300]
    for i, a in enumerate(arts):
        other = arts[(i * 5 + 3) % len(arts)]
        html = cp.article_page(
            a["title"],
            cp.split_paragraphs(a["content"]),
            outlet=a["source"],
            url=a.get("url") or f"https://{a['source']}.example/{i}",
            style=i % len(cp.STYLES),
            appended_story=(other["title"], tuple(cp.split_paragraphs(other["content"])[:2])) if i % 3 == 0 else None,
        )
        pages.append((f"snn {i} style {i % len(cp.STYLES)}", a.get("url"), html))
    return pages


PAGES = _pages()


def _result(html: str | bytes, url: str | None) -> object:
    try:
        return article.extract(html, url)
    except ExtractError as exc:
        return f"ExtractError: {exc}"


def test_there_are_pages_of_every_kind():
    names = [n for n, _, _ in PAGES]
    assert sum(n.startswith("seed") for n in names) >= 18
    assert sum(n.startswith("snn") for n in names) >= 20
    assert sum(n.endswith(".html") for n in names) >= 20


@pytest.mark.parametrize(("name", "url", "html"), PAGES, ids=[n for n, _, _ in PAGES])
def test_fast_first_gives_the_text_of_always_falling_back(name, url, html, monkeypatch):
    fast_first = _result(html, url)
    monkeypatch.setattr(article, "_trafilatura", lambda root, u: article._run_trafilatura(root, u, fast=False))
    assert fast_first == _result(html, url)


def test_the_fallback_still_runs_when_the_main_extractor_finds_nothing(monkeypatch):
    """Soft-redirect stubs hold no prose: the fallback pass runs and its text is kept."""
    calls: list[bool] = []
    real = article._run_trafilatura

    def spy(root, url, *, fast):  # type: ignore[no-untyped-def]
        calls.append(fast)
        return real(root, url, fast=fast)

    monkeypatch.setattr(article, "_run_trafilatura", spy)
    stubs = [(n, u, h) for n, u, h in PAGES if "soft-redirects" in n]
    assert stubs
    for _, url, html in stubs:
        _result(html, url)
    assert False in calls and True in calls


# extractor_options: one Extractor per day, copied with the page's URL, instead of trafilatura
# building one (through configparser) for every page (issue 16). It must be the options
# trafilatura.extract builds itself from TRAFILATURA_ARGS, in every slot.
@pytest.mark.parametrize("url", [None, "", "https://example.com/a/1.html", "https://مثال.example/خبر?id=1", "x\udcff"])
@pytest.mark.parametrize("fast", [True, False])
def test_extractor_options_are_what_trafilatura_builds(url, fast, monkeypatch):
    import trafilatura.core

    built: list[object] = []
    real = trafilatura.core.bare_extraction

    def spy(filecontent, **kw):  # type: ignore[no-untyped-def]
        built.append(kw["options"])
        return real(filecontent, **kw)

    monkeypatch.setattr(trafilatura.core, "bare_extraction", spy)
    html = cp.seed_page(cp.seed_reports()[0], style=0)
    trafilatura.extract(html, url=url, fast=fast, **article.TRAFILATURA_ARGS)
    ours = article.extractor_options(url, fast=fast)
    (theirs,) = built
    assert type(ours) is type(theirs)
    slots = type(theirs).__slots__
    assert slots
    assert {s: getattr(ours, s) for s in slots} == {s: getattr(theirs, s) for s in slots}


def test_extractor_options_are_copies():
    a = article.extractor_options("https://example.com/a", fast=True)
    b = article.extractor_options("https://example.com/b", fast=True)
    assert a is not b and a.url == "https://example.com/a" and b.url == "https://example.com/b"
