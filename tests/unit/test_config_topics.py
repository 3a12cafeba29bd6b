"""Topic rule language in config.yaml: names, weights, fields, near, thresholds, filters."""

from pathlib import Path

import pytest

from monitor.config.load import parse_config
from monitor.errors import ConfigError
from monitor.matching.matcher import compile_topics
from monitor.matching.relevance import saturate

BASE = """
feeds:
  - {name: A, url: "http://127.0.0.1/a.xml"}
  - {name: B, url: "http://127.0.0.1/b.xml", language: ar}
channels: {log: "json://127.0.0.1/x"}
topics:
"""

# Real lines of a seed report (tests/fixtures/seeds/000_*.txt, Al-Araby Al-Jadeed, June 2024).
SEED = (
    (Path(__file__).parent.parent / "fixtures" / "seeds" / "000_96f424c22c679a2e.txt")
    .read_text(encoding="utf-8")
    .splitlines()
)
HEADLINE = SEED[0]  # تفاهمات بوتين وكيم: اتفاقات وأجواء من زمن الحرب الباردة
TREATY = SEED[6]  # ... وقعا اتفاق "الشراكة الاستراتيجية الشاملة" ...
DEFENCE = SEED[7]  # ... مع تعهد بالدفاع المشترك ... الردع النووي.
AMMO = SEED[8]  # ... تزويد كوريا الشمالية لروسيا بالذخائر ...
ACCORD = SEED[14]  # ... تعهد بالدفاع المشترك بين البلدين، وبذلك عادت تفاهمات بوتين ...


def _config(topic_yaml: str):
    return parse_config(BASE + topic_yaml)


def test_term_options_and_new_keys_load():
    config = _config("""
  - id: t
    name: T
    all:
      - [~بوتين, {term: روسيا, weight: 2}]
      - {term: كوريا الشمالية, field: title}
    near:
      - groups: [[الشراكة], [الاستراتيجية الشاملة]]
        within: 5
    min_score: 4
    min_group_score: 1
    feeds: [A]
    languages: [ar]
    notify: [log]
""")
    rule = config.rules()[0]
    assert rule.all[0][0] == "~بوتين" and rule.all[0][1].weight == 2
    assert rule.all[1][0].field == "title"
    assert rule.near[0].within == 5 and rule.min_score == 4 and rule.feeds == ("A",)


@pytest.mark.parametrize(
    "topic,message",
    [
        ("any: [\"ايران.*\"]", "regular expression"),
        ("any: [\"(روسيا|موسكو)\"]", "regular expression"),
        ("any: [{term: روسيا, weight: 0}]", "greater than 0"),
        ("any: [{term: روسيا, field: lead}]", "title"),
        ("any: [روسيا]\n    feeds: [C]", "unknown feed 'C'"),
        ("any: [روسيا]\n    languages: [Arabic]", "must match pattern"),
        ("near: [{groups: [[روسيا]], within: 5}]", "at least 2"),
        ("any: [روسيا]\n    min_score: -1", "greater than or equal to 0"),
    ],
)
def test_bad_rules_are_refused_with_their_path(topic, message):
    with pytest.raises(ConfigError) as exc:
        _config(f"  - id: t\n    name: T\n    {topic}\n    notify: [log]\n")
    assert any(message in p and "topics[0]" in p for p in exc.value.problems), exc.value.problems


def _result(topic_yaml: str, title: str, body: str, **kw):
    rule = _config(topic_yaml).rules()[0]
    return compile_topics([rule]).evaluate(title, body, **kw)[0]


def test_near_needs_the_groups_close():
    def topic(within):
        return f"""
  - id: t
    name: T
    near: [{{groups: [[بوتين], [الدفاع المشترك]], within: {within}}}]
    min_score: 0
    notify: [log]
"""

    assert "بالدفاع المشترك بين البلدين، وبذلك عادت تفاهمات بوتين" in ACCORD  # 6 words apart
    assert _result(topic(8), "", ACCORD).matched
    result = _result(topic(3), "", ACCORD)
    assert not result.matched and "near[0]" in result.reason


def test_title_field_ignores_the_body():
    topic = """
  - id: t
    name: T
    any: [{term: بوتين, field: title}]
    min_score: 0
    notify: [log]
"""
    assert not _result(topic, "", TREATY).matched
    assert _result(topic, HEADLINE, "").matched


def test_one_strong_or_two_weak_signals():
    topic = """
  - id: t
    name: T
    any: [{term: الشراكة الاستراتيجية الشاملة, weight: 4}, الدفاع المشترك, الردع النووي, الذخائر]
    min_score: 3.5
    notify: [log]
"""
    assert _result(topic, "", TREATY).matched  # one strong term in the lead: evidence 4 x 2
    two = _result(topic, "", DEFENCE)  # two weak terms in the lead: 2 + 2, saturated
    assert two.matched and two.score == round(saturate(4.0), 3) >= 3.5
    one = _result(topic, "", AMMO)  # one weak term: evidence 2 (lead)
    assert not one.matched and one.threshold == 3.5
    assert one.score == round(saturate(2.0), 3) < two.score  # a lead hit is not diluted by length


def test_feed_and_language_filters():
    topic = """
  - id: t
    name: T
    any: [بوتين]
    min_score: 0
    feeds: [A]
    languages: [ar]
    notify: [log]
"""
    assert _result(topic, "", TREATY, feed="A", language="ar").matched
    off_feed = _result(topic, "", TREATY, feed="B", language="ar")
    assert not off_feed.matched and "feed 'B'" in off_feed.reason
    assert not _result(topic, "", TREATY, feed="A", language="en").matched


def test_none_still_vetoes_a_high_score():
    topic = """
  - id: t
    name: T
    any: [{term: بوتين, weight: 10}]
    none: [الحرب الباردة]
    notify: [log]
"""
    result = _result(topic, HEADLINE, "")
    assert not result.matched and result.score >= result.threshold and "vetoed" in result.reason


def test_default_threshold_scales_with_groups():
    one = _config("  - id: t\n    name: T\n    any: [بوتين]\n    notify: [log]\n").rules()[0]
    two = _config("  - id: t\n    name: T\n    all: [[بوتين]]\n    any: [كيم]\n    notify: [log]\n").rules()[0]
    r1 = compile_topics([one]).evaluate("", TREATY)[0]
    r2 = compile_topics([two]).evaluate("", TREATY)[0]
    assert r2.threshold == 2 * r1.threshold > 0


def test_group_options_apply_to_every_term():
    topic = """
  - id: t
    name: T
    all:
      - {terms: [بوتين, ~كيم], field: title, weight: 2}
      - [الشراكة الاستراتيجية الشاملة]
    any: {terms: [الدفاع المشترك, {term: الردع النووي, weight: 3}], weight: 2}
    min_score: 0
    notify: [log]
"""
    rule = _config(topic).rules()[0]
    assert [(t.text, t.field, t.weight, t.name) for t in rule.all[0]] == [
        ("بوتين", "title", 2, False),
        ("كيم", "title", 2, True),
    ]
    assert [t.weight for t in rule.any] == [2, 6]
    assert not _result(topic, "", TREATY).matched  # بوتين in the body only
    result = _result(topic, HEADLINE, TREATY + " " + DEFENCE)
    assert result.matched
    assert {h.term: h.weight for h in result.hits}["الردع النووي"] == 6


def test_group_option_terms_are_checked():
    with pytest.raises(ConfigError) as exc:
        _config("  - id: t\n    name: T\n    all: [{terms: [\"a.*\"]}]\n    notify: [log]\n")
    assert any("topics[0].all[0].terms[0]" in p and "regular expression" in p for p in exc.value.problems)
