"""Hostile input costs bounded work (issue 14, kind 1): linear scanners, one budget per source.

Work is measured by counting the characters the scanners examine (no clocks): every
amplification input at three sizes must cost at most a small constant times its size.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from monitor.config.load import parse_config
from monitor.errors import BudgetError, ConfigError, ExtractError
from monitor.extract.htmlcheck import check_depth, check_page
from monitor.fetch import scan
from monitor.fetch.budget import Budget
from monitor.fetch.encoding import decode_html
from monitor.sources.rss import MAX_WINDOWS, parse_feed_result
from monitor.sources.sitemap import parse_sitemap
from tests.support import amplify as A

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SECURITY = FIXTURES / "security"


# ---- counting the work ---------------------------------------------------------
class Counted(str):
    """A str whose find() tallies the characters it looks at."""

    examined: int

    def find(self, sub: str, start: int = 0, end: int | None = None) -> int:  # type: ignore[override]
        r = str.find(self, sub, start, len(self) if end is None else end)
        self.examined += (r + len(sub) if r >= 0 else len(self)) - start
        return r


class CountingPattern:
    def __init__(self, pattern: re.Pattern[str], text: Counted) -> None:
        self.pattern, self.text = pattern, text

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        m = self.pattern.search(text, pos)
        self.text.examined += (m.end() if m else len(text)) - pos
        return m

    def match(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        return self.pattern.match(text, pos, len(text) if endpos is None else endpos)


def examined(fn, text: str, monkeypatch) -> int:
    t = Counted(text)
    t.examined = 0
    with monkeypatch.context() as m:
        m.setattr(scan, "_TAG_END", CountingPattern(scan._TAG_END, t))
        m.setattr(scan, "_DECL_STOP", CountingPattern(scan._DECL_STOP, t))
        m.setattr(scan, "_RAW_END", {k: CountingPattern(p, t) for k, p in scan._RAW_END.items()})
        fn(t)
    return t.examined


XML_FLOODS = [n for n in A.AMPLIFIERS if n != "doctype_bomb_utf16"]
SIZES = (32 * 1024, 64 * 1024, 128 * 1024)


@pytest.mark.parametrize("name", XML_FLOODS)
def test_feed_scan_examines_each_character_a_bounded_number_of_times(name, monkeypatch):
    costs = []
    for size in SIZES:
        text = A.AMPLIFIERS[name](size).decode("latin-1")
        cost = examined(lambda t: scan.scan_xml(t, max_depth=256, max_items=1000), text, monkeypatch)
        assert cost <= 3 * len(text) + 64, (name, size, cost)
        costs.append(cost / len(text))
    assert max(costs) <= min(costs) * 1.5 + 0.1, costs  # per-character cost flat as the input grows


@pytest.mark.parametrize(
    "gen",
    [
        A.flat_p_page,
        lambda n: A._fill(b"<html><body>", b"<a", n),
        lambda n: A._fill(b"<html><body>", b"<!--", n),
        lambda n: A._fill(b"<html><body><script>", b"<p>", n),
        lambda n: A._fill(b"<html><body>", b"<li><b>", n),
        lambda n: A._fill(b"<html><body>", b"</x>", n),
        lambda n: A.deep_page(n // 12),
        lambda n: A._fill(b"<html><body>", b"<!--a--><p>", n),
        lambda n: A._fill(b"<html><body>", b"<!--a--!><p>", n, b"<!--b-->"),
        lambda n: A._fill(b"<html><body>", b"<!--><!---><p>", n, b"--!>"),
    ],
    ids=[
        "flat-p",
        "open-tag",
        "open-comment",
        "open-script",
        "unclosed-inline",
        "stray-end",
        "deep",
        "closed-comments",
        "bang-comments",
        "abrupt-comments",
    ],
)
def test_page_scan_examines_each_character_a_bounded_number_of_times(gen, monkeypatch):
    for size in SIZES:
        text = gen(size).decode("latin-1")
        cost = examined(lambda t: scan.scan_html(t, max_depth=10**6), text, monkeypatch)
        assert cost <= 3 * len(text) + 64, (size, cost)


@pytest.mark.parametrize("unit", ["<", "<<", "<a", "< <", "&lt;", "<>", "<a>b", "<<>>"])
def test_tag_strip_is_linear_and_matches_the_regex_it_replaces(unit, monkeypatch):
    for size in SIZES:
        text = unit * (size // len(unit))
        t = Counted(text)
        t.examined = 0
        out = scan.strip_tags(t)
        assert t.examined <= 2 * len(text) + 8
    for sample in [unit * 7, "x" + unit * 3 + "y>", "a<b>c<d", "<p>نص</p>"]:  # equal to the old regex
        assert scan.strip_tags(sample) == re.sub(r"<[^>]+>", " ", sample)
    assert out is not None


# ---- feeds: every encoding, every hider -------------------------------------
ENCODINGS = {
    "utf-8": lambda b: b,
    "utf-16le-bom": lambda b: A.utf16(b),
    "utf-16be-bom": lambda b: A.utf16(b, big_endian=True),
    "utf-16le": lambda b: A.utf16(b, bom=False),
    "utf-16be": lambda b: A.utf16(b, bom=False, big_endian=True),
    "utf-32le-bom": lambda b: A.utf16(b, width=32),
    "utf-32be": lambda b: A.utf16(b, bom=False, big_endian=True, width=32),
}


@pytest.mark.parametrize("enc", sorted(ENCODINGS))
def test_nesting_budget_holds_in_every_encoding(enc):
    with pytest.raises(BudgetError, match="levels deep"):
        parse_feed_result("f", ENCODINGS[enc](A.deep_feed(300)), "http://127.0.0.1/")
    ok = parse_feed_result("f", ENCODINGS[enc](A.deep_feed(100)), "http://127.0.0.1/")
    assert [i.title for i in ok.items] == ["healthy"]  # the same feed under the budget reads normally


@pytest.mark.parametrize("enc", sorted(ENCODINGS))
@pytest.mark.parametrize("bomb", ["doctype_bomb", "doctype_bomb_pi", "doctype_bomb_entity_value"])
def test_entities_are_never_expanded_whatever_hides_the_doctype(bomb, enc):
    data = ENCODINGS[enc](A.AMPLIFIERS[bomb](20_000))
    result = parse_feed_result("f", data, "http://127.0.0.1/")
    assert result.items
    assert all("haha" not in i.title and len(i.title) < 20 for i in result.items)


def test_field_case_04_doctype_behind_a_comment_is_removed():
    data = (SECURITY / "04-doctype-strip-bypass" / "feed.xml").read_bytes()
    for enc in ENCODINGS.values():
        result = parse_feed_result("f", enc(data.replace(b"LINK", b"http://127.0.0.1/a.html")), "http://x/")
        assert [i.title[:7] for i in result.items] == ["redteam"] and "haha" not in result.items[0].title


@pytest.mark.parametrize("name", XML_FLOODS)
def test_amplifiers_give_bounded_results_beside_a_healthy_item(name):
    data = A.AMPLIFIERS[name](256 * 1024)
    result = parse_feed_result("f", data, "http://127.0.0.1/", budget=Budget(max_items=500))
    assert len(result.items) <= 500 * MAX_WINDOWS  # read in windows of max_items, at most MAX_WINDOWS
    assert all(len(i.title) < 100 for i in result.items)
    if "flood" in name and name != "lt_flood_summary":
        assert [i.title for i in result.items] == ["healthy"]
        assert any("never ends" in w for w in result.warnings)


def test_field_case_03_comment_flood_keeps_the_items_before_it():
    head = (SECURITY / "03-feed-regex-redos-gil" / "feed-head.bin").read_bytes()
    data = A.HEAD + A.healthy_item() + head * 1100  # ~288 KB, as served in the report
    result = parse_feed_result("f", data, "http://127.0.0.1/")
    assert [i.title for i in result.items] == ["healthy"]


@pytest.mark.parametrize(
    ("count", "budget", "read", "warned"),
    [
        (10, 20, 10, False),
        (20, 20, 20, False),
        # past max_items the feed is read in windows of it (new entries at a feed's END are not lost:
        # miniflux/v2#679), up to MAX_WINDOWS of them; only past that is anything cut
        (21, 20, 21, True),
        (1500, 1000, 1500, True),
        (200, 20, 200, True),
        (201, 20, 200, True),
        (1000, 20, 200, True),
    ],
)
def test_items_past_the_budget_are_read_in_windows_then_cut_with_a_warning(count, budget, read, warned):
    for enc in ("utf-8", "utf-16le-bom"):
        result = parse_feed_result(
            "f", ENCODINGS[enc](A.many_items_feed(count)), "http://x/", budget=Budget(max_items=budget)
        )
        assert len(result.items) == read
        assert [i.title for i in result.items[:2]] == ["t0", "t1"]  # document order
        assert any(f"has {count} items" in w for w in result.warnings) == warned


def test_atom_entries_are_read_in_windows_too():
    entries = b"".join(
        b"<entry><title>e%d</title><id>u%d</id><link href='http://x/%d'/></entry>" % (i, i, i) for i in range(30)
    )
    data = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>' + entries + b"</feed>"
    result = parse_feed_result("f", data, "http://x/", budget=Budget(max_items=12))
    assert [i.title for i in result.items] == [f"e{i}" for i in range(30)]
    assert any("30 items" in w for w in result.warnings)
    result = parse_feed_result("f", data, "http://x/", budget=Budget(max_items=2))  # 10 windows of 2
    assert len(result.items) == 20 and any("the first 20 were read" in w for w in result.warnings)


# ---- sitemaps: .gz bodies count every member against max_bytes -------------------
@pytest.mark.parametrize(
    ("gen", "inflated", "fails"),
    [
        (A.gz_sitemap_bomb, 3 * 1024 * 1024, True),
        (A.gz_multimember, 3 * 1024 * 1024, True),
        (A.gz_sitemap_bomb, 512 * 1024, False),
        (A.gz_multimember, 512 * 1024, False),
    ],
)
def test_gz_sitemap_honours_max_bytes(gen, inflated, fails):
    data = gen(inflated)
    budget = Budget(max_bytes=1024 * 1024)
    if fails:
        with pytest.raises(BudgetError, match="unzips to more than 1048576 bytes"):
            parse_sitemap("s", data, "http://x/s.xml.gz", budget=budget)
    else:
        assert len(parse_sitemap("s", data, "http://x/s.xml.gz", budget=budget).items) == 3


def test_every_gzip_member_is_read():
    raw = A.sitemap_xml(9)
    data = b"".join(gzip.compress(raw[i : i + 200]) for i in range(0, len(raw), 200))
    assert len(parse_sitemap("s", data, "http://x/s.gz").items) == 9


def test_sitemap_entries_past_the_budget_are_cut():
    result = parse_sitemap("s", A.sitemap_xml(50), "http://x/s.xml", budget=Budget(max_items=20))
    assert len(result.items) == 20 and any("50 entries" in w for w in result.warnings)


# ---- pages -----------------------------------------------------------------------
def test_flat_page_is_cut_at_the_element_budget():
    page = A.flat_p_page(400_000).decode()
    checked = check_page(page, "http://x/", Budget(max_elements=5000))
    assert "5000 elements" in checked.warning
    assert checked.text.count("<p>") == 5000 - 4  # html, head, title, body come first


def test_page_is_cut_at_the_character_budget():
    page = "<html><body>" + "<p>x</p>" * 10_000 + "</body></html>"
    checked = check_page(page, "", Budget(max_page_chars=5000))
    assert len(checked.text) == 5000 and "characters" in checked.warning


@pytest.mark.parametrize("tag", [b"div", b"span", b"b", b"table"])
def test_deep_pages_are_refused_and_shallow_ones_kept(tag):
    with pytest.raises(ExtractError, match="levels deep"):
        check_page(A.deep_page(1500, tag).decode(), "u", Budget())
    with pytest.raises(ExtractError, match="levels deep"):
        check_depth(A.deep_page(1500, tag).decode())
    assert check_page(A.deep_page(500, tag).decode()).warning == ""


@pytest.mark.parametrize("tag", [b"p", b"li", b"br", b"img", b"option"])
def test_implied_ends_and_void_elements_do_not_count_as_nesting(tag):
    page = (b"<html><body>" + b"<%s>x" % tag * 5000 + b"</body></html>").decode()
    assert scan.scan_html(page).depth < 10


def test_a_real_article_page_is_left_whole():
    page = decode_html((FIXTURES / "pages" / "cnn-arabic-2013.html").read_bytes())
    checked = check_page(page, "http://x/")
    assert checked.text == page and checked.warning == ""


# ---- config ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ((SECURITY / "14-yaml-alias-bomb" / "config.yaml").read_text(), "aliases expand"),
        ((SECURITY / "15-yaml-deep-nesting" / "config.yaml").read_text(), "nested deeper than 64"),
        (A.yaml_alias_bomb(6, 10), "aliases expand"),
        (A.yaml_alias_bomb(20, 2), "aliases expand"),
        (A.yaml_alias_bomb(4, 100), "aliases expand"),
        (A.yaml_deep(65), "nested deeper"),
        (A.yaml_deep(3000, "{a: ", "}"), "nested deeper"),
        (A.yaml_deep_block(100), "nested deeper"),
        ("x: " + "a" * (1024 * 1024 + 1), "larger than"),
    ],
    ids=["case14", "case15", "alias-6x10", "alias-20x2", "alias-4x100", "flow-65", "map-3000", "block-100", "huge"],
)
def test_config_amplifiers_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(text, env={})


def test_ordinary_anchors_and_nesting_still_load():
    text = (
        "defaults: &d {interval: 10m}\n"
        "feeds:\n  - {name: a, url: 'http://example.org/a'}\n  - {name: b, url: 'http://example.org/b'}\n"
        "channels: {c: 'json://127.0.0.1:9/x'}\n"
        "topics:\n  - &t {id: t, name: T, any: [x], notify: [c]}\n"
    )
    assert len(parse_config(text, env={}).feeds) == 2
    with pytest.raises(ConfigError, match="unknown key"):  # small aliases pass the guard; the schema then speaks
        parse_config(A.yaml_alias_bomb(3, 10), env={})
