"""Issue 14 kind 1, what a red-team pass found after the first fixes: untrusted page text read by
backtracking regular expressions outside the scanners (interstitial detection on pages with no
article; JSON-LD wrappers), and section pages read with no budget. The fix is the same kind as
monitor.fetch.scan: forward passes with `str.find`/`startswith`, so each input costs its length.
Each case checks the result on the hostile input and that no regex reads it."""

from __future__ import annotations

import types

import pytest

from monitor.extract import interstitial, structured
from monitor.fetch.budget import Budget
from monitor.sources.page import compile_link_rules, parse_page


class _NoRegex(types.SimpleNamespace):
    def __getattr__(self, name: str):  # re.sub, re.search, re.fullmatch ...: the text must not reach them
        raise AssertionError(f"re.{name} called on untrusted text")


FLOODS = {
    "lt": "<",
    "title": "<title",
    "script": "<script ",
    "comment": "<!--",
    "tag-no-close": "<a href=x",
}


@pytest.mark.parametrize("unit", sorted(FLOODS), ids=sorted(FLOODS))
def test_interstitial_text_of_a_flood_page_is_read_without_regex(monkeypatch, unit):
    page = "<html><head><title>Just a moment...</title></head><body><p>Checking your browser</p>"
    page += FLOODS[unit] * (200_000 // len(FLOODS[unit]))
    monkeypatch.setattr(interstitial, "re", _NoRegex())
    assert interstitial._html_title(page) == "Just a moment..."
    text = interstitial._visible_text(page)
    assert text.startswith("Checking your browser") and len(text) < 100


@pytest.mark.parametrize(
    "payload",
    [
        ("\t" * 4000 + "x\n") * 16,  # lines of tabs: cubic with three adjacent \s*
        "x" + " " * 64_000 + "--",  # spaces before a near-closer: quadratic with \s* ... $
        "//" + " " * 64_000 + "<!--",
    ],
    ids=["tab-lines", "spaces-then-dashes", "slashes-spaces-opener"],
)
def test_json_ld_wrappers_are_stripped_without_regex(monkeypatch, payload):
    monkeypatch.setattr(structured, "re", _NoRegex())
    assert structured._loads_lenient(payload) == []


@pytest.mark.parametrize(
    "text, values",
    [
        ('<!--\n{"a": 1}\n-->', [{"a": 1}]),
        ('//<![CDATA[\n{"a": 1};\n//]]>', [{"a": 1}]),
        ('{"a": 1}\n{"b": 2}', [{"a": 1}, {"b": 2}]),
        ('  <!-- {"a": "x\ty"} -->  ', [{"a": "x\ty"}]),
    ],
)
def test_json_ld_wrappers_still_come_off(text, values):
    assert structured._loads_lenient(text) == values


def test_a_section_page_is_read_within_the_budget():
    rules = compile_link_rules("a", None)
    page = "<html><body>" + "".join(f'<a href="/n/{i}">headline {i}</a>' for i in range(5000))
    result = parse_page("p", page, "http://example.org/world/", rules, budget=Budget(max_items=100))
    assert len(result.items) == 100 and result.items[0].url == "http://example.org/n/0"
    assert any("budget fetch.max_items" in w for w in result.warnings)
    big = parse_page("p", page * 3, "http://example.org/world/", rules, budget=Budget(max_elements=2000))
    assert len(big.items) < 2000 and any("budget fetch.max_elements" in w for w in big.warnings)
