"""monitor.delivery.render: real Arabic titles/snippets from tests/fixtures, hostile
additions (markup, bidi controls, line breaks) on top."""

from __future__ import annotations

import html
import os
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from monitor.delivery.render import (
    L_TERMS,
    RLM,
    TELEGRAM_MAX,
    TERMS_SHOWN,
    clean,
    published_text,
    render_alert,
    render_test_message,
    strongest_terms,
    telegram_visible,
    utf16_len,
)
from monitor.matching.matcher import compile_topics
from monitor.matching.relevance import term_scores
from monitor.matching.rules import TopicRule
from monitor.models import Article, ChannelKind, Match, TermHit
from tests.support.corpus_pages import seed_reports
from tests.support.render_helpers import (
    ARTICLES,
    ENTITY_OK,
    FIXTURES,
    KOREA,
    article_of,
    find_article,
    html_lines,
    match_for,
)
from tests.support.telegram import check_telegram_html

ARABIC = re.compile("[\u0600-\u06ff]")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060"


def _seed_title(name: str) -> str:
    with open(os.path.join(FIXTURES, "seeds", name), encoding="utf-8") as fh:
        return next(line.strip() for line in fh if line.strip())


QUOTED = find_article(lambda r: '"' in r["title"] and "كوريا" in r["title"])
IRAN = find_article(lambda r: "إيران" in r["content"] and re.search(r"\b[ولب]إيران", r["content"]))


# --------------------------------------------------------------------------
# Telegram
# --------------------------------------------------------------------------


@pytest.mark.parametrize("row", [KOREA, QUOTED, IRAN], ids=["digits", "quotes", "iran"])
def test_telegram_alert_is_valid_telegram_html_with_all_parts(row):
    term = "إيران" if row is IRAN else "كوريا"
    match = match_for(row, term)
    alert = render_alert(article_of(row), match, outlet="الشرق الأوسط", channel_kind="telegram")

    error, visible = check_telegram_html(alert.html)
    assert error is None, error
    assert "<br" not in alert.html and "<p" not in alert.html
    assert clean(row["title"]) in visible
    assert row["url"] in visible
    assert "الشرق الأوسط" in visible
    assert match.topic_name in visible
    assert term in visible
    assert utf16_len(visible) <= TELEGRAM_MAX
    assert "\n" not in alert.subject and alert.subject.startswith(match.topic_name + ":")
    for line in html_lines(alert.html):
        if ARABIC.search(telegram_visible(line)):
            assert line.startswith(RLM), line


SHIPPED_TERMS = (  # the shipped example topic's groups (config.yaml), as rule terms
    ("روسيا", "الروسي", "الروسية", "موسكو", "~بوتين", "الكرملين", "~لافروف", "~شويغو", "Russia", "Putin"),
    ("كوريا الشمالية", "الكوري الشمالي", "الكورية الشمالية", "~بيونغ يانغ", "~كيم جونغ أون", "كوريا الديمقراطية"),
)


@pytest.mark.parametrize("seed", range(3))
# fecgov/fec-cms#6454: keyword matches cut to a handful must be the most relevant ones, not the first
@pytest.mark.parametrize("limit", [3, TERMS_SHOWN])
def test_terms_line_shows_the_strongest_rule_terms_not_spellings(seed, limit):
    """Issue 18, item 13: the strongest terms by the matcher's own score, one per rule term."""
    report = seed_reports()[seed]
    rule = TopicRule("ru-kp", "T", all=SHIPPED_TERMS, min_score=0)
    body = "\n\n".join(report.body_paragraphs)
    result = compile_topics([rule]).evaluate(report.title, body)[0]
    assert result.matched
    match = Match("ru-kp", "T", result.hits, result.snippet)
    spellings = {h.matched for h in result.hits} - {h.term for h in result.hits}
    assert spellings  # the seed reports do write clitic / variant spellings
    shown = strongest_terms(match, limit)
    scores = term_scores(result.hits)
    assert len(shown) == min(limit, len(scores))
    assert set(shown) <= {h.term for h in result.hits}  # rule terms only, each once
    assert len(set(shown)) == len(shown)
    weakest_shown = min(scores[t] for t in shown)
    assert all(scores[t] <= weakest_shown for t in scores if t not in shown)  # the strongest ones
    assert [scores[t] for t in shown] == sorted((scores[t] for t in shown), reverse=True)
    article = Article(url="https://example.com/a", url_key="", feed="f", title=report.title, body=body)
    visible = check_telegram_html(render_alert(article, match, outlet="x", channel_kind="telegram").html)[1]
    line = next(line for line in visible.splitlines() if L_TERMS in line)
    assert "→" not in line and not any(s in line.split(":", 1)[1].split("، ") for s in spellings)


def test_title_starting_with_digits_gets_rlm():
    alert = render_alert(article_of(KOREA), match_for(KOREA, "كوريا"), outlet="الاقتصادية", channel_kind="telegram")
    title_line = next(l for l in html_lines(alert.html) if "99.97" in l)
    assert title_line.startswith(RLM + "<b><a href=")
    # the URL line (Latin only) has no RLM
    url_line = html_lines(alert.html)[-1]
    assert telegram_visible(url_line) == KOREA["url"] and not url_line.startswith(RLM)


def test_feed_text_is_escaped_everywhere():
    title = QUOTED["title"] + " <script>alert('x')</script> & <b>"
    url = "https://example.com/a?x=1&y=\"2\"<script>"
    match = match_for(QUOTED, "كوريا")
    match = Match(
        match.topic_id,
        match.topic_name,
        (TermHit("كوريا", "<i>كوريا</i>", "body", 0, 0, 1),),
        match.snippet + " <script>x</script> & ' \"",
    )
    for kind in ("telegram", "email", "other"):
        alert = render_alert(article_of(QUOTED, title=title, url=url), match, outlet="سبق <b>&</b>", channel_kind=kind)
        assert "<script" not in alert.html
        assert "&lt;script&gt;" in alert.html
        assert "<i>كوريا</i>" not in alert.html
        assert "&lt;b&gt;&amp;&lt;/b&gt;" in alert.html  # outlet
        # every & in the markup starts an entity; quotes are escaped
        assert all(ENTITY_OK.match(alert.html, m.start()) for m in re.finditer("&", alert.html))
        # quotes and angle brackets in a link are percent-encoded (links.link_url): same URL, no quote in href
        assert 'href="https://example.com/a?x=1&amp;y=%222%22%3Cscript%3E"' in alert.html
        assert "&#x27;x&#x27;" in alert.html
    tg = render_alert(article_of(QUOTED, title=title, url=url), match, outlet="سبق", channel_kind="telegram")
    error, visible = check_telegram_html(tg.html)
    assert error is None
    assert "<script>alert('x')</script> & <b>" in visible  # shown as text


def test_bidi_and_zero_width_controls_are_removed():
    row = QUOTED
    evil_title = "\u202e" + row["title"][:10] + "\u2066\u200b" + row["title"][10:] + "\ufeff\u2060"
    match = match_for(row, "كوريا")
    match = Match(match.topic_id, match.topic_name, match.hits, "\u202b" + match.snippet + "\u202c\u200d\u2069")
    for kind in ("telegram", "email", "other"):
        alert = render_alert(article_of(row, title=evil_title), match, outlet="\u202dسبق\u202c", channel_kind=kind)
        for part in (alert.subject, alert.text, alert.html):
            assert not any(ch in part for ch in BIDI + ZERO_WIDTH), (kind, part[:80])
        assert row["title"] in html.unescape(alert.html)


def test_short_snippet_is_not_cut():
    match = match_for(KOREA, "كوريا")
    alert = render_alert(article_of(KOREA), match, outlet="x", channel_kind="telegram")
    assert html.escape(match.snippet, quote=True) in alert.html


# --------------------------------------------------------------------------
# Email
# --------------------------------------------------------------------------


def test_email_html_is_rtl_fragment_with_all_parts():
    match = match_for(IRAN, "إيران", topic="الاتفاق النووي الإيراني")
    alert = render_alert(article_of(IRAN), match, outlet="الشرق الأوسط", channel_kind="email")
    assert alert.html.startswith('<div dir="rtl" lang="ar" style="text-align:right;font-family:')
    assert alert.html.rstrip().endswith("</div>")
    assert f'<a href="{html.escape(IRAN["url"], quote=True)}">' in alert.html
    assert html.escape(IRAN["title"], quote=True) in alert.html
    assert "الاتفاق النووي الإيراني" in alert.html
    assert html.escape(match.snippet, quote=True) in alert.html
    assert alert.subject == clean(f"[monitor] الاتفاق النووي الإيراني: {IRAN['title']}")
    # plain text: URL on its own line
    assert IRAN["url"] in alert.text.splitlines()
    assert clean(IRAN["title"]) in alert.text


@pytest.mark.parametrize("brk", ["\r\n", "\n", "\r", "\u2028", "\u2029", "\u0085", "\t", "\x0b", "\x00"])
def test_email_subject_is_one_line(brk):
    row = QUOTED
    title = row["title"][:12] + brk + row["title"][12:] + brk
    match = match_for(row, "كوريا")
    match = Match(match.topic_id, "كوريا" + brk + "الشمالية", match.hits, match.snippet)
    for kind in ("email", "telegram", "other"):
        alert = render_alert(article_of(row, title=title), match, outlet="سبق", channel_kind=kind)
        assert not re.search(r"[\x00-\x1f\x7f\x85\u2028\u2029]", alert.subject), repr(alert.subject)
        assert "  " not in alert.subject
        assert row["title"][:12] + brk not in alert.html


def test_email_subject_is_cut_at_a_word_boundary():
    long_title = " ".join(r["title"] for r in ARTICLES[:10])
    alert = render_alert(
        article_of(KOREA, title=long_title), match_for(KOREA, "كوريا"), outlet="x", channel_kind="email"
    )
    assert len(alert.subject) <= 200
    assert alert.subject.endswith("…")
    full = clean(f"[monitor] كوريا الشمالية: {long_title}")
    assert full.startswith(alert.subject[:-1]) and full[len(alert.subject) - 1] == " "


# --------------------------------------------------------------------------
# test message and seeds
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["telegram", "email", "other"])
def test_render_test_message(kind):
    alert = render_test_message(kind)
    assert "monitor" in alert.text and ARABIC.search(alert.text)
    assert "test" in alert.text.lower()
    assert "\n" not in alert.subject
    if kind == "telegram":
        assert check_telegram_html(alert.html)[0] is None
    else:
        assert 'dir="rtl"' in alert.html


@pytest.mark.parametrize("seed", ["000_96f424c22c679a2e.txt", "002_c4de4682c1a3ca3f.txt", "003_06eb678c74ab6c05.txt"])
def test_seed_titles_render_for_telegram(seed):
    title = _seed_title(seed)
    match = Match("t", "روسيا وكوريا", (TermHit("بوتين", "بوتين", "title", 0, 0, 5),), title)
    art = Article(url="https://example.com/" + seed, url_key=seed, feed="f", title=title, body="")
    alert = render_alert(art, match, outlet="العربي الجديد", channel_kind="telegram")
    error, visible = check_telegram_html(alert.html)
    assert error is None and title in visible


# ---- issue 12, loss 9: the publication time in the channel's time zone ------------------------
@pytest.mark.parametrize(
    "published, tz, want",
    [
        (datetime(2015, 7, 21, 7, 0, tzinfo=UTC), "Asia/Riyadh", "2015-07-21 10:00 Asia/Riyadh"),
        (datetime(2015, 7, 21, 23, 30, tzinfo=UTC), "Asia/Riyadh", "2015-07-22 02:30 Asia/Riyadh"),
        (datetime(2015, 7, 21, 7, 0, tzinfo=UTC), None, "2015-07-21 07:00 UTC"),
        (datetime(2015, 7, 21, 7, 0), "Africa/Cairo", "2015-07-21 09:00 Africa/Cairo"),  # naive: UTC (no DST in 2015)
        (None, "Asia/Riyadh", ""),
    ],
)
def test_published_text_in_the_channel_zone(published, tz, want):
    assert published_text(published, tz) == want


@pytest.mark.parametrize("kind", list(ChannelKind))
def test_every_layout_shows_the_publication_time_when_known(kind):
    art = Article("https://example.org/a", "example.org/a", "F", "title", "body", datetime(2015, 7, 21, 7, tzinfo=UTC))
    match = Match("t", "topic", (), "")
    shown = render_alert(art, match, outlet="o", channel_kind=kind, tz="Asia/Riyadh")
    for part in (shown.text, shown.html):
        assert "2015-07-21 10:00 Asia/Riyadh" in part
    undated = render_alert(replace(art, published=None), match, outlet="o", channel_kind=kind, tz="Asia/Riyadh")
    assert "Asia/Riyadh" not in undated.text + undated.html
