"""Story clustering (pure): which recent story does a new, non-copy article tell?

An article is reduced to its key terms: folded words with the article and
attached proclitics stripped (وال، بال، لل، ال …), weighted by how often the
article uses them (title words count double) times their rarity in real news
(an IDF table built from the SaudiNewsNet corpus, ``text/df.txt``): names of
people, places and treaties weigh most, words every report uses weigh little.
A story's profile is the sum of its articles' profiles (top terms kept).

An article belongs with a recent story when it is like one of the story's
articles (`alike`, `links`): the cosine similarity of the two articles' profiles
reaches the threshold, they share enough weighty terms, their titles alone are
alike too (`title_profile`, TITLE_SIMILARITY), and both headlines name, and both
leads repeat, a rare key term (`echoes`, TITLE_RARE_DF). Comparing with every member,
not with the story's summed profile, and merging the stories an article links
(storage/stories.place) makes the stories the connected groups of "alike" pairs:
the same whatever order the articles arrive in (issue 15 kind 5; measured in
bench/stories.py: the summed-profile rule gave the same call for 88.9% of the
labelled pairs over 5 orders, this one for all of them). The time window is
applied by the store (stories whose last article is older are not candidates).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from monitor.text import rarity
from monitor.text.folded import LEAD_WORDS, FoldedText
from monitor.text.normalize import WORD_CACHE, is_arabic, stems, words

ARTICLE_TERMS = 30  # key terms kept per article
STORY_TERMS = 60  # key terms kept per story profile
BODY_WORDS = LEAD_WORDS  # 400: the lead carries the development; later paragraphs drift to background
# Two articles tell one story when the cosine of their key terms reaches SIMILARITY, that of their
# titles alone TITLE_SIMILARITY, and a key term both titles name and both leads repeat is used by at
# most TITLE_RARE_DF articles of the rarity table. Chosen by 5-fold cross-validation over the 68 story
# groups of tests/fixtures/stories, stories made over all 5,728 articles of the three days (bench/stories.py
# --cv; its README): the default was chosen in 4 of 5 folds; held-out F1 0.83 (the rule family without
# the echo condition: 0.78). On all groups: P 0.95 R 0.94. The echo condition is what stops single-link
# chaining through headlines' protocol words («خادم الحرمين يستقبل …», «… تعايد منسوبيها»): the whole
# corpus's largest story 67 articles before (titles >= 0.2, no echo), 61 with a rare shared title term
# alone, 30 with the echo. 0.35 keeps the three seed reports (pair cosines 0.378, 0.521, 0.355) one story.
SIMILARITY = 0.35
TITLE_SIMILARITY = 0.15
MIN_SHARED = 3  # and at least this many shared key terms
TITLE_RARE_DF = 200  # of the table's 6,340 articles (about 3%): a name, a place; not a headline verb
# A short article (a feed summary when the page could not be read: the title and the first sentences,
# 20-80 words) is also compared by its head: the title and first HEAD_WORDS words of each side, like
# with like. With the second article of a labelled pair cut to 40 words, 49 of the 116 labelled pairs
# of the test fixtures that join with full text came apart (redteam15 #9; bench/stories.py --pairs).
# Such a pair is alike when the full-text rule links it (FULL_WHEN_SHORT) or the heads share
# MIN_SHARED terms at cosine >= HEAD_SIMILARITY, with no title or echo condition (a 40-word lead often
# does not repeat the headline's name; a copy may carry another headline). Chosen by 5-fold
# cross-validation over the story groups with a random 30% of the 458 labelled-universe articles cut
# to 40 words and the stories made over all 5,728 dump articles (bench/stories.py --summaries 0.3 --cv,
# seeds 15 and 16, grid 0.35-0.70 x title condition x full rule on/off): 0.5 with the full rule is
# the lower edge of a plateau (0.5-0.6: P/R 0.932/0.907 seed 15, 0.949/0.892 seed 16; without the head
# rule 0.929/0.864 and 0.946/0.846); 0.45 gains recall at 0.8-1.1 points of precision, 0.40 loses 10.
# Full text is unchanged (bench/stories.py: P 0.948 R 0.943 before and after).
SHORT_WORDS = 100  # body words (whitespace-separated) at most: the article is short
HEAD_WORDS = 40  # folded words of the body's start read into the head profile
HEAD_SIMILARITY = 0.5
HEAD_TITLE = False  # the head rule needs no title cosine (with it: the same P, less R in the cv)
FULL_WHEN_SHORT = True  # a short article still links by the full-text rule too
_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال")
_CLITIC_LETTERS = frozenset("وفبكل")  # the first letters text/normalize.stems strips besides ال


def base_term(token: str) -> str:
    """A folded token with an unambiguous article prefix (ال، وال، بال، لل …) removed."""
    if token.startswith(_PREFIXES) and is_arabic(token):  # most words: no prefix, one C call
        for p in _PREFIXES:
            if token.startswith(p) and len(token) - len(p) >= 3:
                return token[len(p) :]
    return token


@lru_cache(maxsize=WORD_CACHE)
def key_term(token: str) -> str:
    """A folded token as a key term ('' if it is too short or a number).

    One-letter proclitics (و ف ب ك ل) are ambiguous (بوتين is not ب + وتين), so
    they are stripped only when real news knows the stripped word better.
    """
    if token.isdigit():
        return ""
    base = base_term(token)
    if is_arabic(token) and base == token:
        table = rarity.document_frequency()[1]
        known = table.get(token, 0)
        # stems of 3+ letters come only from a leading و ف ب ك ل (an ال long enough to strip,
        # base_term stripped already): other words skip computing their stems
        for cand in stems(token)[1:] if token[0] in _CLITIC_LETTERS else ():
            if len(cand) >= 3 and table.get(cand, 0) > max(known, 7):
                base, known = cand, table[cand]
        if base == token and known == 0 and token[0] in "وف" and len(token) >= 5:
            base = base_term(token[1:])  # an unknown name after the conjunction: وبيونغ
    return base if len(base) >= 3 else ""


def key_terms(text: str) -> list[str]:
    """Key terms of ``text`` in order (repeats kept)."""
    return key_terms_of(words(text))


def key_terms_of(tokens: Iterable[str]) -> list[str]:
    """Key terms of a text given as its folded words, in order (repeats kept)."""
    return list(filter(None, map(key_term, tokens)))


def document_frequency() -> tuple[int, dict[str, int]]:
    """(number of articles, folded word -> articles it is in) of the word-rarity table (text/rarity.py)."""
    return rarity.document_frequency()


@lru_cache(maxsize=WORD_CACHE)
def idf(term: str) -> float:
    """The term's inverse document frequency in the rarity table (cached: a profile weighs each of
    its article's ≈ 200 distinct terms, most of them seen in earlier articles)."""
    n, table = rarity.document_frequency()
    # a term missing from the table is rarer than the table's cut-off: weigh it as such
    return math.log((n + 1) / (table.get(term, 4) + 1))


def profile(title: str, body: str) -> dict[str, float]:
    """The article's weighted key terms (at most ARTICLE_TERMS), L2-normalized."""
    return profile_folded(FoldedText.of(title, body))


def profile_folded(folded: FoldedText) -> dict[str, float]:
    """``profile`` from the article's shared FoldedText: its title's and lead's words
    (`story_terms_folded`'s profile)."""
    return story_terms_folded(folded).profile


def _top(weights: dict[str, float], n: int) -> dict[str, float]:
    """The `n` heaviest terms (ties: by term), L2-normalized, in that order."""
    if len(weights) > n:
        # only terms at least as heavy as the n-th heaviest can be among the n (sorting bare floats
        # first: sorting all of an article's ≈ 150 terms by a Python key cost ≈ 30 µs per profile)
        cut = sorted(weights.values(), reverse=True)[n - 1] if n > 0 else math.inf
        weights = {t: w for t, w in weights.items() if w >= cut}
    items = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    norm = math.sqrt(sum(w * w for _, w in items)) or 1.0
    return {t: w / norm for t, w in items if w > 0}


def merge(story: dict[str, float], article: dict[str, float]) -> dict[str, float]:
    """The story's profile after the article joined (normalized sum, top STORY_TERMS)."""
    total = dict(story)
    for t, w in article.items():
        total[t] = total.get(t, 0.0) + w
    return _top(total, STORY_TERMS)


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Exactly symmetric: ``math.fsum`` rounds the exact sum once, so the order the shared terms are
    added in (which side is iterated) cannot move a pair across a threshold (a plain ``sum`` gave
    0.6308176302505014 one way and ...015 the other)."""
    if len(a) > len(b):
        a, b = b, a
    return math.fsum(w * b[t] for t, w in a.items() if t in b)


@dataclass(frozen=True)
class LinkRule:
    """When two articles tell one story (`alike`)."""

    similarity: float = SIMILARITY
    title_similarity: float = TITLE_SIMILARITY
    title_rare_df: int | None = TITLE_RARE_DF  # None: no shared rare title term needed
    min_shared: int = MIN_SHARED
    head_similarity: float | None = HEAD_SIMILARITY  # None: no head rule for short articles
    head_title: bool = HEAD_TITLE  # the head rule also needs title cosine >= title_similarity
    full_when_short: bool = FULL_WHEN_SHORT  # a short article may also link by the full-text rule


@dataclass(frozen=True)
class StoryChoice:
    story_id: int
    score: float
    shared: int


@lru_cache(maxsize=16384)
def title_profile(title: str) -> dict[str, float]:
    """The key terms of a title alone (`profile(title, "")`). Cached: a story's titles are compared
    with every new candidate article; callers must not change the dict."""
    return profile(title, "")


def echoes_folded(folded: FoldedText) -> frozenset[str]:
    """The title's key terms that the lead repeats: what the article is about by its own account
    (a headline's verb, «يستقبل», «تعايد», rarely comes back in the lead; the name it is about does).
    `story_terms_folded`'s echoes."""
    return story_terms_folded(folded).echoes


def echoes(title: str, body: str) -> frozenset[str]:
    """``echoes_folded`` of an article given as text."""
    return echoes_folded(FoldedText.of(title, body))


def head_folded(folded: FoldedText) -> dict[str, float]:
    """The key terms of the title and the body's first HEAD_WORDS words (a profile, L2-normalized):
    what a feed summary of the article would say. `story_terms_folded`'s head."""
    return story_terms_folded(folded).head


@dataclass(frozen=True, slots=True)
class StoryTerms:
    """An article's key terms as the story layer reads them (`story_terms_folded`)."""

    profile: dict[str, float]
    echoes: frozenset[str]
    head: dict[str, float]


def story_terms_folded(folded: FoldedText) -> StoryTerms:
    """An article's profile (its title's key terms counted twice and its lead's, each weighed
    (1 + log count) * idf, the ARTICLE_TERMS heaviest, L2-normalized), echoes (the title's key
    terms its lead repeats) and head (the profile of the title and the lead's first HEAD_WORDS
    words), the title's and lead's words mapped to key terms once for all three (issue 16:
    ≈ 0.2 ms per article against one pass each)."""
    title = key_terms_of(folded.title)
    mapped = list(map(key_term, folded.lead))
    lead = list(filter(None, mapped))
    head_lead = lead if len(mapped) <= HEAD_WORDS else list(filter(None, mapped[:HEAD_WORDS]))
    titled = Counter(title * 2)
    counts = titled.copy()
    counts.update(lead)
    weights = {t: (1 + math.log(c)) * idf(t) for t, c in counts.items()}
    if head_lead is lead:
        head_weights = weights
    else:
        titled.update(head_lead)
        head_weights = {t: (1 + math.log(c)) * idf(t) for t, c in titled.items()}
    in_lead = set(lead)
    return StoryTerms(
        _top(weights, ARTICLE_TERMS),
        frozenset(t for t in title if t in in_lead),
        _top(head_weights, ARTICLE_TERMS),
    )


def head(title: str, body: str) -> dict[str, float]:
    """``head_folded`` of an article given as text."""
    return head_folded(FoldedText.of(title, body))


@dataclass(frozen=True)
class Member:
    """What the link rule reads of one article. None: not known (an article placed before revision
    0010 has no title profile here, before 0013 no echoes); a condition on it is then skipped."""

    profile: dict[str, float]
    title: dict[str, float] | None = None
    echoes: frozenset[str] | None = None
    head: dict[str, float] | None = None  # `head_folded` (None before revision 0017: no head rule)
    # the body's whitespace-separated words (FoldedText.body_pieces) when its text is the feed's
    # summary (its page could not be read); None for a page's text: a short page is not compared
    # by its head (redteam15b: the boilerplate openings of two short agency items, two royal
    # cables or two days' weather, made different events one story and a per-story topic silent)
    words: int | None = None
    # the outlet that published it (None: not known): the head rule links two outlets only (an
    # outlet's own template opens many of its short items: royal cables, Eid parties, governors'
    # receptions; 6 of redteam15b's 8 boilerplate pairs were one outlet's; a summary-only rewrite
    # of another outlet's report, redteam15 #9, is what the rule is for)
    outlet: str | None = None
    # the site of its URL (`site`; None: not known): one outlet under two feed names, two section
    # feeds without `outlet:` in the config, is two `outlet`s but one site (redteam15c)
    site: str | None = None

    @property
    def short(self) -> bool:
        """A feed summary of at most SHORT_WORDS words: compared by its head too."""
        return self.words is not None and self.words <= SHORT_WORDS


def shares_rare_echo(a: frozenset[str], b: frozenset[str], max_df: int = TITLE_RARE_DF) -> bool:
    """Whether two articles' echoed title terms (`echoes`) share one that at most `max_df` articles
    of the rarity table use: both headlines name it and both leads repeat it."""
    table = rarity.document_frequency()[1]
    return any(table.get(t, 4) <= max_df for t in a & b)


def alike(a: Member, b: Member, rule: LinkRule | None = None) -> float | None:
    """The key-term cosine of two articles when they tell one story under `rule`, else None.
    Symmetric in the two (so stories, the connected groups of alike pairs, do not depend on arrival
    order): at least `min_shared` shared key terms, cosine >= `similarity`, title cosine >=
    `title_similarity` and a shared rare echoed title term (`shares_rare_echo`); or, when either is
    short (`Member.short`), the same on their heads (`head_folded`) with `head_similarity` and no
    echo condition (`alike_heads`: then the heads' cosine is returned)."""
    rule = rule or LinkRule()
    if not rule.full_when_short and _head_pair(a, b, rule):
        return alike_heads(a, b, rule)
    score = _alike_full(a, b, rule)
    return score if score is not None else alike_heads(a, b, rule)


def _head_pair(a: Member, b: Member, rule: LinkRule) -> bool:
    """Whether the head rule reads the pair: either is short, both heads known, the rule has one,
    and the two are not known to be one outlet's (one `outlet`, or one `site`)."""
    return (
        rule.head_similarity is not None
        and a.head is not None
        and b.head is not None
        and (a.short or b.short)
        and not _one_outlet(a.outlet, b.outlet)
        and not _one_outlet(a.site, b.site)
    )


def _one_outlet(a: str | None, b: str | None) -> bool:
    return a is not None and a == b


def site(url: str) -> str | None:
    """The host of `url`, lower-cased, without a leading ``www.`` ("https://WWW.alriyadh.com/x" ->
    "alriyadh.com"); None when it has none. An outlet's section feeds link one site; a feed that
    links every outlet through one host (a redirector) makes them one site: no head rule among
    them (a missed join, not a false one)."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    host = host.removeprefix("www.")
    return host or None


def alike_heads(a: Member, b: Member, rule: LinkRule | None = None) -> float | None:
    """The heads' cosine when either article is short and their heads tell one story: at least
    `min_shared` shared head terms, cosine >= `head_similarity`, title cosine >= `title_similarity`
    (None when neither is short, a head is not known or the rule has no head similarity)."""
    rule = rule or LinkRule()
    if not _head_pair(a, b, rule) or a.head is None or b.head is None or rule.head_similarity is None:
        return None
    if sum(1 for t in a.head if t in b.head) < rule.min_shared:
        return None
    score = cosine(a.head, b.head)
    if score < rule.head_similarity:
        return None
    if (
        rule.head_title
        and a.title is not None
        and b.title is not None
        and cosine(a.title, b.title) < rule.title_similarity
    ):
        return None
    return score


def _alike_full(a: Member, b: Member, rule: LinkRule) -> float | None:
    if sum(1 for t in a.profile if t in b.profile) < rule.min_shared:
        return None
    score = cosine(a.profile, b.profile)
    if score < rule.similarity:
        return None
    if a.title is not None and b.title is not None and cosine(a.title, b.title) < rule.title_similarity:
        return None
    if (
        rule.title_rare_df is not None
        and a.echoes is not None
        and b.echoes is not None
        and not shares_rare_echo(a.echoes, b.echoes, rule.title_rare_df)
    ):
        return None
    return score


def links(
    article: Member, candidates: list[tuple[int, list[Member]]], rule: LinkRule | None = None
) -> list[StoryChoice]:
    """The candidate stories (id, their articles) that have an article `alike` `article`, each
    scored by its most similar article; sorted by story id. The article belongs with all of them
    (they merge)."""
    rule = rule or LinkRule()
    out = []
    for sid, members in candidates:
        best: StoryChoice | None = None
        for m in members:
            score = alike(article, m, rule)
            if score is not None and (best is None or score > best.score):
                best = StoryChoice(sid, score, sum(1 for t in article.profile if t in m.profile))
        if best is not None:
            out.append(best)
    return sorted(out, key=lambda c: c.story_id)


def choose(
    article: dict[str, float],
    candidates: list[tuple[int, dict[str, float]]],
    threshold: float = SIMILARITY,
    min_shared: int = MIN_SHARED,
) -> StoryChoice | None:
    """The candidate story whose summed profile is most like the article's, or None. (The store
    places articles with `links`; this compares with a story's centroid, which depends on the
    order its articles came in.)"""
    best: StoryChoice | None = None
    for sid, prof in candidates:
        shared = sum(1 for t in article if t in prof)
        score = cosine(article, prof)
        if shared >= min_shared and score >= threshold and (best is None or score > best.score):
            best = StoryChoice(sid, score, shared)
    return best
