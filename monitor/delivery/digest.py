"""Digests, operator notices and Telegram message splitting (pure functions, no I/O).

A digest groups held alerts by topic, then by story (articles whose folded
title words mostly agree), and lists the outlets that carried each story and,
as a single alert does, the other copies known when it is rendered («ورد أيضاً في»,
each outlet linked to its copy, at most render.ALSO_SHOWN, then "and N more").
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.delivery.links import link_url
from monitor.delivery.render import (
    FONT,
    L_ALSO,
    L_PUBLISHED,
    RLM,
    also_entries,
    also_html,
    also_plain,
    clean,
    cut_words,
    has_arabic,
    published_text,
    utf16_len,
)
from monitor.models import CHANNEL_KINDS, ChannelKind, RenderedAlert, ReportedBy
from monitor.storage import OutboxAlert, StoredArticle
from monitor.text.normalize import stems, tokenize

TELEGRAM_LIMIT = 4096
STORY_SIMILARITY = 0.5  # Jaccard of title word stems to count as the same story
L_DIGEST = "ملخص التنبيهات"
L_OUTLETS = "المصادر"
L_OPS = "تنبيه للمشغّل"
TITLE_MAX = 300

_TOKEN_RE = re.compile(r"<[^>]*>|&#?\w+;|\n\n|\n| |[^<&\n ]+|[<&]")
_TAG_NAME_RE = re.compile(r"^</?\s*([A-Za-z][\w-]*)")


# ---- stories -----------------------------------------------------------------
Item = tuple[str, str, str, str]  # (title, url, outlet, body)


def _words(title: str) -> frozenset[str]:
    return frozenset(min(stems(t.text), key=len) for t in tokenize(title) if len(t.text) > 2)


def _shingles(body: str) -> frozenset[tuple[str, ...]]:
    words = [t.text for t in tokenize(body[:3000])]
    return frozenset(tuple(words[i : i + 3]) for i in range(len(words) - 2))


def _jaccard(a: frozenset[object], b: frozenset[object]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def story_indices(items: Sequence[Item]) -> list[list[int]]:
    """Items -> stories as lists of item indices, in first-seen order (greedy). Two articles
    are one story when they share a URL, their title words (folded, clitics stripped) mostly
    agree, or their bodies share most word 3-shingles (a wire story retitled by each outlet)."""
    stories: list[tuple[frozenset[str], frozenset[tuple[str, ...]], list[int]]] = []
    for n, item in enumerate(items):
        words, shingles = _words(item[0]), _shingles(item[3])
        for head, head_sh, members in stories:
            if (
                any(items[m][1] == item[1] for m in members if item[1])
                or _jaccard(head, words) >= STORY_SIMILARITY
                or (shingles and _jaccard(head_sh, shingles) >= STORY_SIMILARITY)
            ):
                members.append(n)
                break
        else:
            stories.append((words, shingles, [n]))
    return [members for _, _, members in stories]


def group_stories(items: Sequence[Item]) -> list[list[Item]]:
    """Items -> stories (see `story_indices`), each a list of its items."""
    return [[items[n] for n in members] for members in story_indices(items)]


@dataclass(frozen=True)
class Entry:
    """One article of a digest, as shown: its publication time already in the channel's zone."""

    title: str
    url: str
    outlet: str
    published: str  # render.published_text: "2015-07-21 13:00 Asia/Riyadh", "" when unknown
    copies: tuple[ReportedBy, ...] = ()  # its other copies (storage also_reported), as stored


def _digest_groups(
    alerts: Sequence[OutboxAlert],
    articles: Mapping[int, StoredArticle],
    topics: Mapping[str, str],
    tz: str | None,
    also: Mapping[int, Sequence[ReportedBy]],
) -> list[tuple[str, list[list[Entry]]]]:
    by_topic: dict[str, list[tuple[Item, Entry]]] = {}
    for a in alerts:
        art = articles.get(a.article_id)
        if art is None:  # article row gone: the stored subject still says what it was
            item: Item = (cut_words(clean(a.subject), TITLE_MAX), "", "", "")
            entry = Entry(item[0], "", "", "")
        else:
            title = clean(art.title) or link_url(art.url)
            item = (cut_words(title, TITLE_MAX), link_url(art.url), clean(art.outlet or art.feed), art.body or "")
            entry = Entry(item[0], item[1], item[2], published_text(art.published, tz), tuple(also.get(a.id, ())))
        by_topic.setdefault(a.topic_id, []).append((item, entry))
    return [
        (clean(topics.get(t, t)), [[pairs[n][1] for n in story] for story in story_indices([p[0] for p in pairs])])
        for t, pairs in by_topic.items()
    ]


def _times(story: list[Entry]) -> tuple[str, list[tuple[str, str, str]]]:
    """(the story's publication line text, its sources as (outlet, url, time)): the first
    article's time heads the story; with several articles each source carries its own."""
    sources = list(dict.fromkeys((e.outlet, e.url, e.published if len(story) > 1 else "") for e in story if e.outlet))
    return story[0].published, sources


def _copies(story: list[Entry]) -> tuple[list[tuple[str, str]], int]:
    """The story's other copies as a single alert lists them (render.also_entries: links made
    safe, one per page, at most ALSO_SHOWN), leaving out the pages the digest shows already."""
    return also_entries([c for e in story for c in e.copies], shown=[e.url for e in story])


def render_digest(
    alerts: Sequence[OutboxAlert],
    articles: Mapping[int, StoredArticle],
    topics: Mapping[str, str],
    *,
    kind: ChannelKind,
    tz: str | None = None,
    also: Mapping[int, Sequence[ReportedBy]] | None = None,
) -> RenderedAlert:
    """One message for many held alerts (`articles`: article id -> StoredArticle); each
    article's publication time is shown in `tz` (the channel's IANA zone; None: UTC) as
    single alerts show it (render.published_text), none for an undated article. `also`:
    alert id -> the other copies of its article (or story) known now, listed under it."""
    groups = _digest_groups(alerts, articles, topics, tz, also or {})

    def e(s: str) -> str:
        return html.escape(s, quote=True)

    def named(outlet: str, when: str) -> str:
        return f"{outlet} ({when})" if when else outlet

    n = len(alerts)
    subject = f"[monitor] {L_DIGEST}: {n}"
    text_lines = [f"{RLM}{L_DIGEST} ({n})", ""]
    tg = [f"{RLM}<b>{L_DIGEST}</b> ({n})"]
    mail = [
        f'<div dir="rtl" lang="ar" style="text-align:right;font-family:{FONT};font-size:15px;'
        f'line-height:1.6"><p><b>{L_DIGEST}</b> ({n})</p>'
    ]
    for topic, stories in groups:
        text_lines.append(f"{RLM}{topic}")
        tg.append("")
        tg.append(f"{RLM}<b>{e(topic)}</b>")
        mail.append(f"<h3 style=\"margin:12px 0 4px 0\">{e(topic)}</h3><ul>")
        for story in stories:
            title, url = story[0].title, story[0].url
            published, sources = _times(story)
            when = f"\n  {L_PUBLISHED}: {published}" if published else ""
            outlets = "، ".join(dict.fromkeys(named(o, t) for o, _, t in sources))
            copies, more = _copies(story)
            copied = also_plain(copies, more)
            if copied:  # one line of outlets, or one indented "- outlet: link" line each
                copied = f"\n  {L_ALSO}:" + ("" if copied.startswith("\n") else " ") + copied.replace("\n", "\n    ")
            text_lines.append(f"{RLM}• {title}\n  {url}{when}\n  {L_OUTLETS}: {outlets}{copied}")
            links = "، ".join(f'<a href="{e(u)}">{e(named(o, t))}</a>' if u else e(named(o, t)) for o, u, t in sources)
            head = f'<a href="{e(url)}">{e(title)}</a>' if url else e(title)
            tg.append(f"{RLM}• {head}")
            if published:
                tg.append(f"{RLM}{L_PUBLISHED}: {e(published)}")
            tg.append(f"{RLM}{L_OUTLETS}: {links}")
            if copies:  # markup, escaped by also_html
                tg.append(f"{RLM}{L_ALSO}: {also_html(copies, more, show_url=False)}")
            stamp = f"<br><small>{L_PUBLISHED}: {e(published)}</small>" if published else ""
            mailed = f"<br><small>{L_ALSO}:<br>\n{also_html(copies, more, show_url=True)}</small>" if copies else ""
            mail.append(f"<li>{head}{stamp}<br><small>{L_OUTLETS}: {links}</small>{mailed}</li>")
        mail.append("</ul>")
        text_lines.append("")
    mail.append("</div>")
    text = "\n".join(text_lines).rstrip() + "\n"
    if CHANNEL_KINDS[kind].telegram_html:
        return RenderedAlert(subject, text, "\n".join(tg))
    return RenderedAlert(subject, text, "\n".join(mail))


def render_ops_notice(
    alert: OutboxAlert, channel: str, error: str, *, kind: ChannelKind, count: int = 1
) -> RenderedAlert:
    """What the ops channel gets when an alert (or a digest of `count`) is given up."""
    what = f"alert {alert.id}" if count == 1 else f"a digest of {count} alerts (first: {alert.id})"
    msg = (
        f"{what} (topic {clean(alert.topic_id)}) could not be delivered to channel "
        f"{clean(channel)} and is marked dead: {clean(error)}"
    )
    fix = (
        f"fix the channel, then run: monitor outbox retry {alert.id}"
        if count == 1
        else "fix the channel, then list them with `monitor outbox --state dead` and run: monitor outbox retry ID..."
    )
    subject = cut_words(f"[monitor] {L_OPS}: alert {alert.id} dead on {clean(channel)}", 200)
    return _ops_message(subject, msg, fix, kind)


def _ops_message(subject: str, msg: str, fix: str, kind: ChannelKind) -> RenderedAlert:
    """An operator notice: the ops label, what happened (`msg`) and what to do (`fix`)."""
    text = f"{RLM}{L_OPS}\n{msg}\n{fix}\n"
    e = html.escape
    if CHANNEL_KINDS[kind].telegram_html:
        return RenderedAlert(subject, text, f"{RLM}<b>{L_OPS}</b>\n{e(msg)}\n<i>{e(fix)}</i>")
    return RenderedAlert(
        subject,
        text,
        f'<div dir="rtl" lang="ar"><p><b>{L_OPS}</b></p><p dir="ltr">{e(msg)}</p><p dir="ltr">{e(fix)}</p></div>',
    )


# ---- Telegram splitting ----------------------------------------------------------
def _visible(token: str) -> int:
    """Telegram's count for a non-tag token (a line break may be sent as CRLF: 2)."""
    if token.startswith("\n"):
        return 2 * len(token)
    return utf16_len(html.unescape(token)) if token.startswith("&") else utf16_len(token)


def _tags_after(stack: list[str], tokens: Sequence[str]) -> list[str]:
    stack = list(stack)
    for tok in tokens:
        m = _TAG_NAME_RE.match(tok) if tok.startswith("<") and len(tok) > 1 else None
        if not m or tok.endswith("/>"):
            continue
        if tok.startswith("</"):
            for i in range(len(stack) - 1, -1, -1):
                if _tag_name(stack[i]) == m.group(1):
                    del stack[i:]
                    break
        else:
            stack.append(tok)
    return stack


def _tag_name(tag: str) -> str:
    m = _TAG_NAME_RE.match(tag)
    return m.group(1) if m else ""


def _close(stack: list[str]) -> str:
    return "".join(f"</{_tag_name(t)}>" for t in reversed(stack))


def _cut_point(tokens: list[str], budget: int) -> int | None:
    """Index of the break to cut at: the last paragraph break, else line break, else
    space, that leaves at least half a message before it (else any such break)."""
    sizes, total = [], 0
    for tok in tokens:
        sizes.append(total)
        total += 0 if (tok.startswith("<") and len(tok) > 1) else _visible(tok)
    for floor in (budget // 2, 1):
        for brk in ("\n\n", "\n", " "):
            for i in range(len(tokens) - 1, 0, -1):
                if tokens[i] == brk and sizes[i] >= floor:
                    return i
    return None


def split_telegram(markup: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` visible UTF-16 units.

    Cuts at a paragraph break, else a line break, else a space; never inside a tag
    or an entity (a cut inside <b>…</b> closes the tag and reopens it in the next
    part). A part holding Arabic that does not start a line starts with RLM.
    """
    tokens = _TOKEN_RE.findall(markup)
    budget = limit - 1  # room for a leading RLM
    parts: list[str] = []
    start_stack: list[str] = []
    cur: list[str] = []
    size = 0

    def flush(head: list[str]) -> None:
        nonlocal start_stack
        end_stack = _tags_after(start_stack, head)
        body = "".join(start_stack) + "".join(head) + _close(end_stack)
        if has_arabic(html.unescape(re.sub(r"<[^>]*>", "", body))) and not body.startswith(RLM):
            body = RLM + body
        if body.strip(RLM + " \n"):
            parts.append(body)
        start_stack = end_stack

    for tok in tokens:
        vis = 0 if (tok.startswith("<") and len(tok) > 1) else _visible(tok)
        while size + vis > budget:
            cut = _cut_point(cur, budget)
            if cut is not None:
                flush(cur[:cut])
                cur = cur[cut + 1 :]
            elif cur:
                flush(cur)
                cur = []
            else:  # one word longer than a message: cut it by characters
                room, i = budget, 0
                while i < len(tok) and utf16_len(tok[: i + 1]) <= room:
                    i += 1
                flush([tok[:i]])
                tok = tok[i:]
                vis = _visible(tok)
            size = sum(0 if (t.startswith("<") and len(t) > 1) else _visible(t) for t in cur)
        cur.append(tok)
        size += vis
    if cur:
        flush(cur)
    return parts or [markup]


def render_migration_notice(channel: str, old_chat: str, new_chat: str, *, kind: ChannelKind) -> RenderedAlert:
    """What the ops channel gets when Telegram moved a channel's group to a new chat id
    (a group upgraded to a supergroup): alerts now go to `new_chat`; the config should say so."""
    msg = (
        f"Telegram chat {clean(old_chat)} of channel {clean(channel)} was upgraded to a supergroup; "
        f"its new id is {clean(new_chat)}. Alerts are being sent to {clean(new_chat)}."
    )
    fix = f"update the channel's URL in the config: replace /{clean(old_chat)} with /{clean(new_chat)}"
    subject = cut_words(f"[monitor] {L_OPS}: channel {clean(channel)} moved to chat {clean(new_chat)}", 200)
    return _ops_message(subject, msg, fix, kind)
