"""Near-duplicate index and stories in the store (SQLite and PostgreSQL alike).

``place`` runs inside ``Store.save_article``'s transaction: it finds the copy
group (MinHash band lookup + exact Jaccard) or the story (key-term lookup +
profile similarity) of a new article, records it, and indexes the article.
Nothing is kept in memory between calls but the stored members already parsed
(``MemberCache``, keyed by their rows' text, so never stale, and bounded): the
index's size follows the window (``prune_index``), not the archive, and a
restart loses nothing.
Placements that could see each other are serialized (SQLite: the write transaction
already is; PostgreSQL: storage/placelock.py's locks) so two copies processed at once cannot
both start a group, nor two reports of one event two stories.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import cast

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from monitor.dedup import neardup
from monitor.dedup import stories as clustering
from monitor.dedup.keys import clean_link, normalize_url
from monitor.models import NewAlert, ReportedBy
from monitor.storage.db import Database, in_list, insert_rows, list_param
from monitor.storage.placelock import PlacementConflict, gone, lock_keys, lock_stories, with_retry
from monitor.storage.prepared import Prepared
from monitor.storage.schema import (
    alerts,
    articles,
    matches,
    neardup_bands,
    neardup_entries,
    stories,
    story_articles,
    story_terms,
)

log = logging.getLogger(__name__)

MAX_STORY_CANDIDATES = 25
QUERY_TERMS = clustering.ARTICLE_TERMS  # every key term: a story that shares MIN_SHARED of them is found


@dataclass(frozen=True)
class StoryRules:
    window: timedelta = timedelta(days=7)  # near-duplicate index window
    jaccard: float = neardup.COPY_JACCARD
    story_window: timedelta = timedelta(days=3)  # a story stays open this long after its last article
    similarity: float = clustering.SIMILARITY
    follow_up_gap: timedelta = timedelta(hours=1)  # at most one follow-up per story, topic and channel


# Article.text_source values whose text is the item's feed summary, not its page: "summary" (the
# page failed or its text could not be extracted) and "interstitial" (a consent wall, bot challenge
# or paywall stub was served instead: pipeline._article falls back to the feed's text). Only these
# are compared by their head (StoryInput.words, clustering.Member.words; redteam15c: a walled
# outlet's summary-only rewrite of another outlet's report stayed apart).
FEED_TEXT_SOURCES = frozenset({"summary", "interstitial"})


@dataclass(frozen=True)
class StoryInput:
    """What the pure stages computed for one article."""

    fingerprint: neardup.Fingerprint
    profile: dict[str, float]
    rules: StoryRules = field(default_factory=StoryRules)
    trusted: bool = False  # the article's feed is `trusted: true`
    trusted_feeds: frozenset[str] = frozenset()  # names of every trusted feed
    echoes: frozenset[str] | None = None  # clustering.echoes_folded (None: not known, no echo condition)
    head: dict[str, float] | None = None  # clustering.head_folded (None: not known, no head rule)
    words: int | None = None  # a feed summary's body words (None: a page's text, or not known): Member.words

    def member(self, title: str, outlet: str | None = None, url: str | None = None) -> clustering.Member:
        """The article as the link rule reads it (`url`: its address, for its site)."""
        return clustering.Member(
            self.profile,
            clustering.title_profile(title),
            self.echoes,
            self.head,
            self.words,
            outlet,
            None if url is None else clustering.site(url),
        )

    @property
    def suppressed_by(self) -> frozenset[str] | None:
        """Feeds whose earlier alert suppresses this article's (None: any feed's)."""
        return self.trusted_feeds if self.trusted else None


@dataclass(frozen=True)
class Placement:
    story_id: int
    copy_of: int | None  # the first article of the copy group this one copies
    jaccard: float | None
    score: float | None  # story similarity when joined by clustering
    new_story: bool


@dataclass(frozen=True)
class StoryArticle:
    article_id: int
    title: str
    url: str
    outlet: str
    added_at: datetime
    copy_of: int | None
    jaccard: float | None


@dataclass(frozen=True)
class Story:
    id: int
    title: str
    first_seen: datetime
    last_seen: datetime
    articles: tuple[StoryArticle, ...]
    topics: tuple[str, ...]
    alert_sent: datetime | None = None  # when the story's first alert was sent (any topic, channel)

    def after_alert(self, article: StoryArticle) -> bool:
        """Whether the article joined after the story's first alert was sent (so that alert does
        not list it: `monitor stories` is where a late copy is seen)."""
        return self.alert_sent is not None and article.added_at > self.alert_sent

    @property
    def outlets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.outlet for a in self.articles))


# ---- placement (inside save_article's transaction) ---------------------------
def place(
    conn: Connection,
    dialect: str,
    article_id: int,
    *,
    title: str,
    outlet: str,
    inp: StoryInput,
    now: datetime,
    url: str | None = None,
) -> Placement:
    """Put a just-saved article in its copy group or story, and index it (`url`: its address,
    whose site the head rule reads: clustering.Member.site)."""
    rules, fp = inp.rules, inp.fingerprint
    if dialect == "postgresql":
        lock_keys(conn, fp.bands, _indexed(inp))  # every term it finds stories by

    profile_json = json.dumps(inp.profile, ensure_ascii=False)  # the member's row, and a new story's

    def decide() -> Placement:
        copy = _find_copy(conn, article_id, fp, now - rules.window, rules.jaccard)
        return _cluster(
            conn,
            title,
            inp,
            now,
            rules,
            copy,
            lock=dialect == "postgresql",
            profile_json=profile_json,
            outlet=outlet,
            url=url,
        )

    placement = with_retry(conn, dialect, decide)
    _INSERT_STORY_ARTICLE.execute(
        conn,
        dict(
            article_id=article_id,
            story_id=placement.story_id,
            copy_of=placement.copy_of,
            jaccard=placement.jaccard,
            score=placement.score,
            outlet=outlet,
            added_at=now,
            profile=profile_json,
            echoes=None if inp.echoes is None else json.dumps(sorted(inp.echoes), ensure_ascii=False),
            head=None if inp.head is None else json.dumps(inp.head, ensure_ascii=False),
            words=inp.words,
        ),
    )
    _add_terms(conn, placement.story_id, _indexed(inp), fresh=placement.new_story)
    if fp.bands:
        _INSERT_ENTRY.execute(conn, dict(article_id=article_id, indexed_at=now, shingles=fp.shingle_bytes()))
        insert_rows(conn, neardup_bands, ("band", "article_id"), [(b, article_id) for b in fp.bands])
    if placement.copy_of is not None:
        log.info(
            "copy article=%d outlet=%s copy_of=%d jaccard=%.2f story=%d alert=none reason=copy",
            article_id,
            outlet,
            placement.copy_of,
            placement.jaccard,
            placement.story_id,
        )
    else:
        log.debug(
            "story article=%d outlet=%s story=%d %s",
            article_id,
            outlet,
            placement.story_id,
            "new" if placement.new_story else f"joined score={placement.score:.2f}",
        )
    return placement


# Built once, their values bound at execution: building a statement per call (with its
# values, or one bound value per band or term) cost more than SQLite running it (issue 16).
# Prepared (storage/prepared.py): compiled once per dialect, run past SQLAlchemy's per-call work.
_INSERT_STORY_ARTICLE = Prepared(
    insert(story_articles),
    (
        "article_id",
        "story_id",
        "copy_of",
        "jaccard",
        "score",
        "outlet",
        "added_at",
        "profile",
        "echoes",
        "head",
        "words",
    ),
)
_INSERT_ENTRY = Prepared(insert(neardup_entries), ("article_id", "indexed_at", "shingles"))
_NEW_STORY = Prepared(
    insert(stories).returning(stories.c.id), ("title", "first_seen", "last_seen", "n_articles", "profile")
)
_COPY_ROW = Prepared(
    select(story_articles.c.story_id, story_articles.c.copy_of).where(
        story_articles.c.article_id == bindparam("article_id")
    )
)
_STORY_PROFILE = Prepared(select(stories.c.profile).where(stories.c.id == bindparam("story_id")))
_JOIN_STORY = Prepared(
    update(stories)
    .where(stories.c.id == bindparam("b_story_id"))
    .values(last_seen=bindparam("b_now"), n_articles=stories.c.n_articles + 1, profile=bindparam("b_profile"))
)


@dataclass(frozen=True)
class _Lookups:
    """The placement's lookups by a list of values, in one dialect (``_lookups``)."""

    copy_candidates: Prepared
    story_candidates: Prepared
    story_has_terms: Prepared
    members: Prepared


@lru_cache(maxsize=2)
def _lookups(dialect: str) -> _Lookups:
    """Built once per dialect, each list bound as one parameter (db.in_list, db.list_param)."""
    return _Lookups(
        copy_candidates=Prepared(
            select(neardup_entries.c.article_id, neardup_entries.c.shingles).where(
                neardup_entries.c.article_id.in_(
                    select(neardup_bands.c.article_id).where(in_list(neardup_bands.c.band, "bands", dialect)).distinct()
                ),
                neardup_entries.c.indexed_at >= bindparam("since"),
                neardup_entries.c.article_id != bindparam("me"),
            )
        ),
        story_candidates=Prepared(
            select(stories.c.id, stories.c.profile).where(
                stories.c.id.in_(
                    select(story_terms.c.story_id)
                    .where(in_list(story_terms.c.term, "terms", dialect))
                    .group_by(story_terms.c.story_id)
                    .having(func.count() >= clustering.MIN_SHARED)
                    .order_by(func.count().desc(), story_terms.c.story_id.desc())
                    .limit(MAX_STORY_CANDIDATES)
                ),
                stories.c.last_seen >= bindparam("since"),
            )
        ),
        story_has_terms=Prepared(
            select(story_terms.c.term).where(
                story_terms.c.story_id == bindparam("sid"), in_list(story_terms.c.term, "terms", dialect)
            )
        ),
        members=Prepared(
            select(
                story_articles.c.story_id,
                story_articles.c.profile,
                story_articles.c.echoes,
                story_articles.c.head,
                story_articles.c.words,
                story_articles.c.outlet,
                articles.c.title,
                articles.c.url,
            )
            .join(articles, articles.c.id == story_articles.c.article_id)
            .where(in_list(story_articles.c.story_id, "ids", dialect))
        ),
    )


def _find_copy(
    conn: Connection, article_id: int, fp: neardup.Fingerprint, since: datetime, threshold: float
) -> tuple[int, float] | None:
    if not fp.bands:
        return None
    dialect = conn.dialect.name
    params = {"bands": list_param(dialect, fp.bands), "since": since, "me": article_id}
    rows = _lookups(dialect).copy_candidates.execute(conn, params).all()
    cands = [(r.article_id, neardup.shingles_from_bytes(r.shingles)) for r in rows]
    return neardup.best_copy(fp, cands, threshold)


def _cluster(
    conn: Connection,
    title: str,
    inp: StoryInput,
    now: datetime,
    rules: StoryRules,
    copy: tuple[int, float] | None = None,
    *,
    lock: bool = False,
    profile_json: str,
    outlet: str | None = None,
    url: str | None = None,
) -> Placement:
    """The story of a new article: the one of its copy group (`copy`: the article it copies,
    Jaccard) and every open story with an article like it (`clustering.links`), merged into the
    oldest; a new story when there are none. The article's own row is inserted by the caller.
    `lock` (PostgreSQL): the stories it joins or merges are row-locked before any is written,
    and PlacementConflict is raised when a candidate was merged away meanwhile (placelock.py).
    `profile_json`: ``inp.profile`` as JSON (the caller's, for the member's row too: a new story's row);
    `outlet`, `url`: the article's (the head rule links two outlets only: clustering.Member.outlet, .site)."""
    linked: list[clustering.StoryChoice] = []
    profile = inp.profile
    if profile:
        # all the article's terms: a story whose articles share MIN_SHARED of them is found
        # whichever of two articles comes first (with only the weightiest 12, a pair sharing 7
        # terms was found in one order and missed in the other)
        terms = [t[:100] for t in _indexed(inp)]
        dialect = conn.dialect.name
        params = {"terms": list_param(dialect, terms), "since": now - rules.story_window}
        rows = _lookups(dialect).story_candidates.execute(conn, params).all()
        members = _member_profiles(conn, {r.id: r.profile for r in rows})
        if lock and (merged := gone(conn, [sid for sid, m in members if not m])):
            raise PlacementConflict(f"candidate stories merged meanwhile: {merged}")
        linked = clustering.links(
            inp.member(title, outlet, url),
            members,
            clustering.LinkRule(similarity=rules.similarity),
        )
    root: int | None = None
    targets = {c.story_id for c in linked}
    if copy is not None:
        row = _COPY_ROW.execute(conn, {"article_id": copy[0]}).one()
        root = row.copy_of or copy[0]
        targets.add(row.story_id)
    if lock and targets:
        lock_stories(conn, sorted(targets))
    if not targets:
        story_id = _NEW_STORY.execute(
            conn,
            dict(
                title=title,
                first_seen=now,
                last_seen=now,
                n_articles=1,
                profile=profile_json,
            ),
        ).scalar_one()
        return Placement(story_id, None, None, None, True)
    keep = min(targets)
    if len(targets) > 1:
        _merge(conn, keep, sorted(targets - {keep}))
    old = _STORY_PROFILE.execute(conn, {"story_id": keep}).scalar_one()
    _JOIN_STORY.execute(
        conn,
        {
            "b_story_id": keep,
            "b_now": now,
            "b_profile": json.dumps(clustering.merge(json.loads(old), profile), ensure_ascii=False),
        },
    )
    score = max((c.score for c in linked), default=None) if copy is None else None
    return Placement(keep, root, copy[1] if copy is not None else None, score, False)


def _member_profiles(conn: Connection, centroids: dict[int, str]) -> list[tuple[int, list[clustering.Member]]]:
    """(story id, its articles) for candidate stories, by id. An article placed before revision 0010
    has no profile: its story's summed profile stands in for it (with no title condition); one
    placed before 0013 has no echoes (no echo condition)."""
    if not centroids:
        return []
    members: dict[int, list[clustering.Member]] = defaultdict(list)
    legacy: set[int] = set()
    dialect = conn.dialect.name
    for r in _lookups(dialect).members.execute(conn, {"ids": list_param(dialect, sorted(centroids))}):
        if r.profile is None:
            legacy.add(r.story_id)
        else:
            members[r.story_id].append(MEMBERS.member(r[1:]))
    for sid in legacy:
        members[sid].append(clustering.Member(json.loads(centroids[sid])))
    return [(sid, members[sid]) for sid in sorted(centroids)]


# Members parsed from their stored row, keyed by the row's text itself (profile, echoes, head, words,
# outlet, title, url): the same row always gives the same Member, so no transaction, rollback (SQLite
# may hand a rolled-back article's id to the next one) or other node's placement can make an entry
# stale. A new article's candidate stories are mostly the ones the articles before it read (round 2
# of bench/versus_script.py: 2,099 member rows read for 200 articles, 323 of them distinct): parsing
# each member's JSON, title and site anew was ≈ 0.5 ms of the ≈ 1 ms placement (issue 16). Bounded
# in entries and in the characters of the rows kept (least recently used out first; a row over
# MEMBER_CACHE_ROW_CHARS is not kept): a typical row is ≈ 1,900 characters and ≈ 14 KB of memory
# with its parsed Member (that run: 323 rows, peak RSS +4.5 MB), so the bounds hold ≈ 7 MB of
# typical rows; rows built to cost the most per character (≈ 15 bytes each, redteam16c) ≈ 15 MB.
MEMBER_CACHE = 1024
MEMBER_CACHE_CHARS = 1_000_000
MEMBER_CACHE_ROW_CHARS = 20_000
MemberRow = tuple[str, str | None, str | None, int | None, str, str, str]


class MemberCache:
    """Members parsed from their stored rows (`member`), bounded: at most `entries` rows of at most
    `chars` characters in all (the least recently used go first), none over `row_chars`."""

    def __init__(
        self, entries: int = MEMBER_CACHE, chars: int = MEMBER_CACHE_CHARS, row_chars: int = MEMBER_CACHE_ROW_CHARS
    ) -> None:
        self.max_entries, self.max_chars, self.max_row_chars = entries, chars, row_chars
        self._kept: OrderedDict[tuple[object, ...], tuple[clustering.Member, int]] = OrderedDict()
        self.chars = 0  # characters of the rows kept
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def member(self, row: tuple[object, ...]) -> clustering.Member:
        """The Member of a story_articles row joined with its article, as `_lookups().members`
        selects them after story_id: (profile, echoes, head, words, outlet, title, url)."""
        with self._lock:
            got = self._kept.get(row)
            if got is not None:
                self._kept.move_to_end(row)
                return got[0]
        profile, echoes, head, words, outlet, title, url = cast(MemberRow, row)
        member = clustering.Member(
            json.loads(profile),
            clustering.title_profile(title),
            None if echoes is None else frozenset(json.loads(echoes)),
            None if head is None else json.loads(head),
            words,
            outlet,
            clustering.site(url),
        )
        size = sum(len(v) for v in row if isinstance(v, str))
        if size <= min(self.max_row_chars, self.max_chars) and self.max_entries > 0:
            with self._lock:
                if row not in self._kept:
                    while self._kept and (len(self._kept) >= self.max_entries or self.chars + size > self.max_chars):
                        self.chars -= self._kept.popitem(last=False)[1][1]
                    self._kept[row] = (member, size)
                    self.chars += size
        return member


MEMBERS = MemberCache()


def _merge(conn: Connection, keep: int, others: list[int]) -> None:
    """Fold stories `others` into `keep` (an article linked them): their articles, terms, span and
    summed profile move to `keep`; their rows go."""
    rows = conn.execute(
        select(stories.c.id, stories.c.first_seen, stories.c.n_articles, stories.c.profile).where(
            stories.c.id.in_([keep, *others])
        )
    ).all()
    profile: dict[str, float] = {}
    for r in sorted(rows, key=lambda r: r.id):
        profile = clustering.merge(profile, json.loads(r.profile))
    conn.execute(update(story_articles).where(story_articles.c.story_id.in_(others)).values(story_id=keep))
    moved = {t for (t,) in conn.execute(select(story_terms.c.term).where(story_terms.c.story_id.in_(others))).all()}
    have = {t for (t,) in conn.execute(select(story_terms.c.term).where(story_terms.c.story_id == keep)).all()}
    conn.execute(delete(story_terms).where(story_terms.c.story_id.in_(others)))
    if moved - have:
        conn.execute(insert(story_terms), [{"story_id": keep, "term": t} for t in sorted(moved - have)])
    conn.execute(
        update(stories)
        .where(stories.c.id == keep)
        .values(
            first_seen=min(r.first_seen for r in rows),
            n_articles=sum(r.n_articles for r in rows),
            profile=json.dumps(profile, ensure_ascii=False),
        )
    )
    conn.execute(delete(stories).where(stories.c.id.in_(others)))
    log.info("stories merged story=%d merged=%s", keep, ",".join(map(str, others)))


def _indexed(inp: StoryInput) -> list[str]:
    """The terms an article is found by and finds stories by: its key terms (all QUERY_TERMS of
    them), then its head's others (a summary shares its words with the start of a long article,
    not always with that article's weightiest terms)."""
    terms = list(inp.profile)[:QUERY_TERMS]
    return terms + [t for t in (inp.head or {}) if t not in inp.profile]


def _add_terms(conn: Connection, story_id: int, profile: list[str] | dict[str, float], *, fresh: bool = False) -> None:
    """Index the article's key terms under its story (the story's terms are the union of its
    articles' terms, so a candidate lookup finds a story by any of its articles). `fresh`: the
    story was just made (no terms yet)."""
    terms = sorted({t[:100].replace("\x00", "") for t in profile})  # as NulFreeString binds them
    if not terms:
        return
    dialect = conn.dialect.name
    have = set()
    if not fresh:
        params = {"sid": story_id, "terms": list_param(dialect, terms)}
        have = set(_lookups(dialect).story_has_terms.execute(conn, params).scalars())
    new = [t for t in terms if t not in have]
    insert_rows(conn, story_terms, ("story_id", "term"), [(story_id, t) for t in new])


def already_alerted(
    conn: Connection,
    placement: Placement,
    article_id: int,
    topic_id: str,
    channel: str,
    per: str,
    by_feeds: frozenset[str] | None = None,
) -> bool:
    """Whether the copy group (per="article") or story (per="story") already has this alert.

    With `by_feeds` (an article of a trusted feed: `StoryInput.suppressed_by`) only an
    alert on an article of one of those feeds counts: a copy that another source posted
    first does not silence a trusted outlet's own report."""
    q = (
        select(alerts.c.id)
        .join(story_articles, story_articles.c.article_id == alerts.c.article_id)
        .where(alerts.c.topic_id == topic_id, alerts.c.channel == channel, alerts.c.article_id != article_id)
    )
    if by_feeds is not None:
        if not by_feeds:
            return False
        q = q.join(articles, articles.c.id == alerts.c.article_id).where(articles.c.feed.in_(sorted(by_feeds)))
    if per == "story":
        q = q.where(story_articles.c.story_id == placement.story_id)
    else:
        if placement.copy_of is None:
            return False
        root = placement.copy_of
        q = q.where(or_(story_articles.c.article_id == root, story_articles.c.copy_of == root))
    return conn.execute(q.limit(1)).first() is not None


def follow_up_of(conn: Connection, placement: Placement, alert: NewAlert, now: datetime, gap: timedelta) -> int | None:
    """The alert a follow-up of `alert` replies to, or None when no follow-up is to be made.

    Called for an alert its story already has. A follow-up is made for a per-story alert
    that carries one (the topic has follow-ups on), for an article that is not a copy,
    when the story's first alert on that channel was sent and no follow-up of the story
    (topic, channel) was made in the last `gap`. The caller stores `alert.follow_up` as
    the alert's text with ``reply_to`` = the returned id (that first alert)."""
    if alert.per != "story" or alert.follow_up is None or placement.copy_of is not None:
        return None
    in_story = (
        select(alerts.c.id, alerts.c.status, alerts.c.reply_to, alerts.c.created_at)
        .join(story_articles, story_articles.c.article_id == alerts.c.article_id)
        .where(
            story_articles.c.story_id == placement.story_id,
            alerts.c.topic_id == alert.topic_id,
            alerts.c.channel == alert.channel,
        )
    )
    rows = conn.execute(in_story.order_by(alerts.c.created_at, alerts.c.id)).all()
    first = next((r for r in rows if r.reply_to is None), None)
    if first is None or first.status != "sent":
        return None  # not alerted yet: the pending alert lists the outlet ("also reported")
    if any(r.reply_to is not None and r.created_at > now - gap for r in rows):
        log.info(
            "follow-up skipped story=%d topic=%s channel=%s reason=gap",
            placement.story_id,
            alert.topic_id,
            alert.channel,
        )
        return None
    return int(first.id)


# ---- upkeep and reading ------------------------------------------------------
def prune_index(conn: Connection, now: datetime, rules: StoryRules) -> int:
    """Drop index entries older than the window and the term index of closed stories."""
    old = select(neardup_entries.c.article_id).where(neardup_entries.c.indexed_at < now - rules.window)
    conn.execute(delete(neardup_bands).where(neardup_bands.c.article_id.in_(old)))
    n = conn.execute(delete(neardup_entries).where(neardup_entries.c.indexed_at < now - rules.window)).rowcount
    closed = select(stories.c.id).where(stories.c.last_seen < now - rules.story_window)
    conn.execute(delete(story_terms).where(story_terms.c.story_id.in_(closed)))
    return int(n or 0)


# also_reported's statements, compiled once (issue 16: the outbox asks once per alert it sends)
_ALSO_ME = Prepared(
    select(story_articles.c.story_id, story_articles.c.copy_of).where(
        story_articles.c.article_id == bindparam("article_id")
    )
)


def _also_rows(cond: ColumnElement[bool]) -> Prepared:
    return Prepared(
        select(story_articles.c.article_id, story_articles.c.outlet, articles.c.url)
        .join(articles, articles.c.id == story_articles.c.article_id)
        .where(cond)
        .order_by(story_articles.c.added_at, story_articles.c.article_id)
    )


_ALSO_STORY = _also_rows(story_articles.c.story_id == bindparam("story_id"))
_ALSO_COPIES = _also_rows(
    or_(story_articles.c.article_id == bindparam("root"), story_articles.c.copy_of == bindparam("root"))
)


def also_reported(conn: Connection, article_id: int, per: str) -> list[ReportedBy]:
    """The other articles of the article's copy group (or, per="story", its story), in arrival
    order: one entry per distinct page (`normalize_url` key; the link shown is `clean_link`'s,
    tracking parameters dropped), the article's own page left out. A copy at another URL of
    the same outlet is listed too (a different page a reader may be sent to)."""
    me = _ALSO_ME.execute(conn, {"article_id": article_id}).first()
    if me is None:
        return []
    if per == "story":
        rows = _ALSO_STORY.execute(conn, {"story_id": me.story_id}).all()
    else:
        rows = _ALSO_COPIES.execute(conn, {"root": me.copy_of or article_id}).all()
    seen = {normalize_url(r.url) for r in rows if r.article_id == article_id}
    out: list[ReportedBy] = []
    for r in rows:
        key = normalize_url(r.url)
        if r.article_id == article_id or key in seen:
            continue
        seen.add(key)
        out.append(ReportedBy(r.outlet or "", clean_link(r.url)))
    return out


def recent_stories(
    conn: Connection,
    since: datetime,
    topic: str | None = None,
    limit: int = 50,
    *,
    min_articles: int = 1,
    matched_only: bool = False,
) -> list[Story]:
    """Stories with an article since `since`, newest first; with `topic`, only those it matched;
    `min_articles`: only stories with at least this many articles; `matched_only`: only stories
    with an article that matched a topic. Filters run in SQL, before `limit`."""

    q = select(stories.c.id, stories.c.title, stories.c.first_seen, stories.c.last_seen).where(
        stories.c.last_seen >= since
    )
    if min_articles > 1:
        q = q.where(
            stories.c.id.in_(
                select(story_articles.c.story_id)
                .group_by(story_articles.c.story_id)
                .having(func.count() >= min_articles)
            )
        )
    if matched_only:
        q = q.where(
            stories.c.id.in_(
                select(story_articles.c.story_id).join(matches, matches.c.article_id == story_articles.c.article_id)
            )
        )
    if topic is not None:
        q = q.where(
            stories.c.id.in_(
                select(story_articles.c.story_id)
                .join(matches, matches.c.article_id == story_articles.c.article_id)
                .where(matches.c.topic_id == topic)
            )
        )
    heads = conn.execute(q.order_by(stories.c.last_seen.desc(), stories.c.id.desc()).limit(limit)).all()
    if not heads:
        return []
    ids = [h.id for h in heads]
    members: dict[int, list[StoryArticle]] = defaultdict(list)
    for r in conn.execute(
        select(
            story_articles.c.story_id,
            story_articles.c.article_id,
            articles.c.title,
            articles.c.url,
            story_articles.c.outlet,
            story_articles.c.added_at,
            story_articles.c.copy_of,
            story_articles.c.jaccard,
        )
        .join(articles, articles.c.id == story_articles.c.article_id)
        .where(story_articles.c.story_id.in_(ids))
        .order_by(story_articles.c.added_at, story_articles.c.article_id)
    ):
        members[r.story_id].append(
            StoryArticle(r.article_id, r.title, r.url, r.outlet, r.added_at, r.copy_of, r.jaccard)
        )
    topics: dict[int, set[str]] = defaultdict(set)
    for t in conn.execute(
        select(story_articles.c.story_id, matches.c.topic_id)
        .join(matches, matches.c.article_id == story_articles.c.article_id)
        .where(story_articles.c.story_id.in_(ids))
    ):
        topics[t.story_id].add(t.topic_id)
    sent: dict[int, datetime] = {
        r.story_id: r.sent
        for r in conn.execute(
            select(story_articles.c.story_id, func.min(alerts.c.sent_at).label("sent"))
            .join(alerts, alerts.c.article_id == story_articles.c.article_id)
            .where(story_articles.c.story_id.in_(ids), alerts.c.sent_at.is_not(None), alerts.c.reply_to.is_(None))
            .group_by(story_articles.c.story_id)
        )
    }
    return [
        Story(
            h.id,
            h.title,
            h.first_seen,
            h.last_seen,
            tuple(members[h.id]),
            tuple(sorted(topics[h.id])),
            sent.get(h.id),
        )
        for h in heads
    ]


class StoryRows(Database):
    """The near-duplicate index and stories as store methods (raise StoreError).
    Placement itself runs inside ``ArticleRows.save_article``'s transaction (``place``)."""

    def prune_index(self, now: datetime, rules: StoryRules) -> int:
        """Drop index entries older than `rules.window`; returns how many went."""
        with self.tx() as conn:
            return prune_index(conn, now, rules)

    def also_reported(self, article_id: int, per: str = "article") -> list[ReportedBy]:
        """Other articles (outlet, link) of the article's copy group (per="story": its story),
        in arrival order, one per distinct link (a read: no write lock)."""
        with self.tx(write=False) as conn:
            return also_reported(conn, article_id, per)

    def stories(
        self,
        since: datetime,
        topic: str | None = None,
        limit: int = 50,
        *,
        min_articles: int = 1,
        matched_only: bool = False,
    ) -> list[Story]:
        """At most `limit` stories with an article since `since`, newest first (see recent_stories)."""
        with self.tx() as conn:
            return recent_stories(conn, since, topic, limit, min_articles=min_articles, matched_only=matched_only)
