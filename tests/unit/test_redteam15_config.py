"""Red team of issue 15 (redteam15), promise 5: the mistakes a new user makes in a topic's terms
get a clear error naming the line and the YAML path, or a match that works.

#8 (fixed): search-box syntax (OR / AND / NOT, alternatives joined by /, optional letters in
(…), a leading - or ! meant as an exclusion, a ~ written after the name) used to load silently
as a literal phrase that never matches, or (-إيران) as the very word the user meant to exclude.
The same kind elsewhere: getsentry/sentry#18944 (`a OR b` silently ran as no query),
miniflux/v2#3881 (`(i?)` silently blocked nothing), zone-eu/wildduck#863 (OR and quoted phrases
in a filter box). The words are real: الحوثيين, إيران, طهران, عدن (tests/fixtures/labelled/topics.yaml).
"""

import re

import pytest

from monitor.config.load import parse_config
from monitor.errors import ConfigError
from monitor.matching.matcher import compile_topics

BASE = """feeds:
  - {name: A, url: "http://127.0.0.1/a.xml"}
channels: {log: "json://127.0.0.1/x"}
topics:
  - id: t
    name: T
"""
REFUSED = [
    ('any: ["الحوثي/الحوثيين"]', "any[0]", "joins alternatives with /"),
    ('any: ["إيران OR طهران"]', "any[0]", "search operators"),
    ('all: [[إيران], ["النووي AND الاتفاق"]]', "all[1][0]", "search operators"),
    ('any: ["NOT إيران"]', "any[0]", "search operators"),
    ('any: ["الحوثي(ين)"]', "any[0]", "optional letters"),
    ('any: [النووي, "-إيران"]', "any[1]", "exclusion"),
    ('any: ["!إيران"]', "any[0]", "exclusion"),
    ('any: ["عدن~"]', "any[0]", "~name"),
    # the kinds that were already refused or warned (held)
    ("all:\n      - []\n    any: [النووي]", "all[0]", "must not be empty"),
    ('any: ["ـــ"]', "any[0]", "no letters or digits"),  # tatweel only: folds to nothing
    ('any: ["~"]', "any[0]", "no letters or digits"),
    ('any: ["إيران|طهران"]', "any[0]", "regular expression"),
]


@pytest.mark.unit
@pytest.mark.parametrize(("terms", "path", "message"), REFUSED)
def test_a_term_in_search_syntax_is_refused_with_line_and_path(terms: str, path: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(BASE + f"    {terms}\n    notify: [log]\n")
    where = re.compile(rf"config\.yaml:\d+: topics\[0\]\.{re.escape(path)}: ")
    assert any(where.match(p) and message in p for p in exc.value.problems), exc.value.problems


WORKING = [
    # (term, text as printed, matches?) — ordinary punctuation inside a term still works
    ("تنظيم الدولة (داعش)", "قال إن تنظيم الدولة (داعش) تبنى الهجوم", True),
    ("مجموعة 5+1", "وقعت إيران ومجموعة 5+1 الاتفاق", True),
    ("~عبد ربه منصور هادي", "أصدر الرئيس عبد ربه منصور هادي قرارا", True),  # ~ on a multi-word name
]


@pytest.mark.unit
@pytest.mark.parametrize(("term", "text", "expected"), WORKING)
def test_punctuation_a_term_may_hold_still_loads_and_matches(term: str, text: str, expected: bool) -> None:
    config = parse_config(BASE + f'    any: ["{term}"]\n    min_score: 0\n    notify: [log]\n')
    assert compile_topics(config.rules()).evaluate("", text)[0].matched is expected
