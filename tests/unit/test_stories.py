"""Stories, the pure parts: config checks of alert mode and dedup values, the also-reported line.
The store and the pipeline are in tests/integration/test_stories.py.
"""

from __future__ import annotations

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.delivery.render import L_ALSO
from tests.support.story_helpers import (
    seed_articles,
)


def test_config_checks_alert_mode_and_dedup_values():
    from monitor.errors import ConfigError

    base = {
        "feeds": [{"name": "a", "url": "https://ex.com/rss"}],
        "channels": {"tg": "tgram://1:x/2"},
        "topics": [{"id": "t", "name": "T", "any": ["روسيا"], "notify": ["tg"], "alert": "per-thread"}],
        "dedup": {"window": "soon", "copy_jaccard": 1.5},
    }
    with pytest.raises(ConfigError) as err:
        parse_config(yaml.safe_dump(base, allow_unicode=True), env={})
    text = "\n".join(err.value.problems)
    assert "topics[0].alert" in text and "dedup.window" in text and "dedup.copy_jaccard" in text
    base["topics"][0]["alert"] = "per-story"
    base["dedup"] = {"window": "2d", "story_window": "12h"}
    config = parse_config(yaml.safe_dump(base, allow_unicode=True), env={})
    assert config.topics[0].alert == "per-story"
    assert config.dedup.window == 2 * 86400 and config.dedup.story_window == 12 * 3600


@pytest.mark.parametrize("kind", ["telegram", "email", "other"])
def test_also_reported_line_is_clean_and_escaped(kind):
    from monitor.delivery.render import render_alert
    from monitor.models import Article, Match, TermHit

    art = seed_articles()[0]
    article = Article(url="https://ex.com/a", url_key="ex.com/a", feed="f", title=art["title"], body="")
    match = Match("t", "T", (TermHit("بوتين", "بوتين", "title", 0, 0, 5),), "بوتين")
    hostile = "Evil <b>\u202e\nOutlet"
    plain = render_alert(article, match, outlet="A", channel_kind=kind)
    r = render_alert(article, match, outlet="A", channel_kind=kind, also=["الشرق الأوسط", hostile])
    assert L_ALSO not in plain.html + plain.text
    assert f"{L_ALSO}: الشرق الأوسط، Evil <b> Outlet" in r.text
    assert "Evil &lt;b&gt; Outlet" in r.html and "\u202e" not in r.html + r.text


# ---- issue 15 kind 5: an article links every story with an article like it (pure part) -------
def _story_rows():
    from monitor.dedup import stories as clustering
    from tests.support.story_labels import fixture_articles, labels

    arts = fixture_articles(labels())

    def member(aid: str) -> clustering.Member:
        a = arts[aid]
        return clustering.Member(
            clustering.profile(a["title"], a["content"]),
            clustering.title_profile(a["title"]),
            clustering.echoes(a["title"], a["content"]),
        )

    return arts, member


# (id, new article, candidate stories {id: members}, expected linked story ids)
LINK_ROWS = [
    # the third outlet's report is like each of the two others, which are not alike (cosine 0.30):
    # it links both stories, so they merge whatever came first
    ("bridge of two stories", "snn-20150722-0865", {1: ["snn-20150721-0031"], 2: ["snn-20150721-0652"]}, [1, 2]),
    # one like member among unlike ones is enough (a summed profile would be diluted)
    ("one like member among unlike ones", "snn-20150723-0619", {3: ["snn-20150722-0259", "snn-20150723-1101"]}, [3]),
    # key terms alike (0.415: China, growth, economy) but titles not (0.09): the plenum vs steel
    ("same country and words, other news", "snn-20150721-0147", {4: ["snn-20150721-0861"]}, []),
    # single-link chaining through shared protocol vocabulary (memorylane#214: 35 unrelated items in
    # one cluster; future-agi#1940: "heavy shared vocabulary"; worldmonitor#3234: bridge chaining):
    # two receptions, key terms 0.38 and titles 0.26 alike («ولي العهد … رئيس …»), the only title
    # term both leads repeat is ولي (379 articles of the table): no link (the rule before linked them)
    ("a headline's protocol words only", "snn-20150723-1073", {5: ["snn-20150721-1127"]}, []),
    # a rewrite whose headline is worded otherwise (title cosine 0.17) but names the UAE, which both
    # leads repeat (33 articles): linked (titles >= 0.2 before missed it)
    ("other headline wording, one named subject", "snn-20150721-1461", {6: ["snn-20150721-0646"]}, [6]),
]


# known misses of the rule, kept in view
LINK_MISSES = [
    pytest.param(
        "snn-20150723-0193",
        {7: ["snn-20150722-0271"]},
        [7],
        id="the King receives the US defence secretary, two reports (labelled one story, S08)",
        marks=pytest.mark.xfail(
            strict=True, reason="the title term both leads repeat, دفاع, is in 266 articles of the table (> 200)"
        ),
    ),
]


@pytest.mark.parametrize(
    "new,cands,want",
    [pytest.param(*r[1:], id=r[0]) for r in LINK_ROWS] + LINK_MISSES,
)
def test_links_every_story_with_a_like_article(new, cands, want):
    from monitor.dedup import stories as clustering

    _, member = _story_rows()
    art = member(new)
    got = clustering.links(art, [(sid, [member(m) for m in ms]) for sid, ms in cands.items()])
    assert [c.story_id for c in got] == want
    assert all(c.score >= clustering.SIMILARITY and c.shared >= clustering.MIN_SHARED for c in got)
    for m in [mm for ms in cands.values() for mm in ms]:  # the rule is symmetric
        assert clustering.alike(art, member(m)) == clustering.alike(member(m), art)
    legacy = clustering.links(
        clustering.Member(art.profile),
        [(sid, [clustering.Member(member(m).profile) for m in ms]) for sid, ms in cands.items()],
    )
    assert {c.story_id for c in got} <= {c.story_id for c in legacy}  # no title known: key terms only


# (article, title key terms its lead repeats, headline words it does not): real excerpt articles
ECHO_ROWS = [
    ("snn-20150723-1073", {"مصري", "خارجيه"}, {"يستقبل"}),  # the guest is repeated, the verb is not
    ("snn-20150721-1127", {"شيشان"}, {"يلتقي"}),
    ("snn-20150721-1461", {"امارات", "اديان"}, {"تتوعد", "مسيئين"}),
]


@pytest.mark.parametrize("aid,repeated,not_repeated", ECHO_ROWS, ids=[r[0] for r in ECHO_ROWS])
def test_echoes_are_the_title_terms_the_lead_repeats(aid, repeated, not_repeated):
    from monitor.dedup import stories as clustering
    from monitor.text.folded import FoldedText

    arts, _ = _story_rows()
    a = arts[aid]
    got = clustering.echoes(a["title"], a["content"])
    assert repeated <= got and not (not_repeated & got)
    assert got <= set(clustering.key_terms(a["title"]))
    assert got == clustering.echoes_folded(FoldedText.of(a["title"], a["content"]))


# ---- short articles (a feed summary) are compared by their heads (redteam15 #9) ----------------
def _summary_pair(words: int) -> tuple[dict, dict]:
    """Two labelled reports of one story (S02, two outlets: tests/fixtures/stories/groups.json),
    the second cut to its title and first `words` body words."""
    from tests.integration.test_redteam15_stories import _articles

    arts = _articles()
    a, b = arts["snn-20150722-0259"], arts["snn-20150722-1298"]
    return a, {**b, "content": " ".join(b["content"].split()[:words]), "text_source": "summary"}


def _member(art: dict):
    from monitor.dedup import stories as clustering

    t, body = art["title"], art["content"]
    return clustering.Member(
        clustering.profile(t, body),
        clustering.title_profile(t),
        clustering.echoes(t, body),
        clustering.head(t, body),
        len(body.split()) if art.get("text_source") == "summary" else None,
    )


@pytest.mark.parametrize("words", [20, 40, 80])
def test_a_summary_is_alike_its_story_by_the_heads_either_way(words):
    from monitor.dedup import stories as clustering

    full, short = (_member(x) for x in _summary_pair(words))
    assert short.short and not full.short
    assert clustering.alike(full, short) == clustering.alike(short, full) is not None
    assert clustering.alike_heads(full, short) is not None
    # without the head rule (before 0017: no head stored) the same pair is apart
    assert clustering.alike(full, short, clustering.LinkRule(head_similarity=None)) is None
    old = clustering.Member(short.profile, short.title, short.echoes)
    assert clustering.alike(full, old) is None


def test_two_full_texts_never_use_the_head_rule():
    from monitor.dedup import stories as clustering

    a, b = _summary_pair(10_000)
    assert clustering.alike_heads(_member(a), _member(b)) is None
