"""Turn a match into a message for one channel kind (pure functions, no I/O).

Three kinds (:class:`monitor.models.ChannelKind`; the layout follows
``CHANNEL_KINDS[kind].telegram_html``):

* ``TELEGRAM`` -- ``html`` uses only Telegram's HTML subset (``<b>``,
  ``<i>``, ``<a href>``), lines are separated by ``"\\n"``, every line holding
  Arabic starts with U+200F (RLM) so Telegram lays it out right to left, and
  the visible text fits Telegram's 4096 UTF-16 code units (the snippet is
  shortened at a word boundary with "…").
* ``EMAIL`` -- ``html`` is a ``<div dir="rtl" lang="ar">`` fragment (apprise
  derives the text/plain part from it, so the URL is also written out as
  visible text); ``subject`` is ``"[monitor] {topic}: {title}"`` on one line.
* ``OTHER`` -- ``text`` is what is sent (plain text); ``html`` is the email
  fragment.

All text coming from feeds (outlet, title, snippet, matched text, URL) has every
format character (links.strip_format: LRM/RLM/ALM, soft hyphen, tag characters...) and
bidi override/embedding/isolate and zero-width characters removed, control
characters and line breaks turned into spaces, and is escaped with
``html.escape(..., quote=True)`` wherever it goes into HTML. Links are
``links.link_url``: http(s) only, no userinfo, homograph hosts as punycode.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.dedup.keys import clean_link, normalize_url
from monitor.delivery.links import link_url, strip_format
from monitor.matching.relevance import term_scores
from monitor.models import CHANNEL_KINDS, Article, ChannelKind, Match, RenderedAlert, ReportedBy

__all__ = [
    "render_alert",
    "render_test_message",
    "strongest_terms",
    "terms_plain",
    "published_text",
    "TERMS_SHOWN",
    "clean",
    "utf16_len",
    "telegram_visible",
    "TELEGRAM_MAX",
    "TELEGRAM_BUDGET",
]

TELEGRAM_MAX = 4096  # Telegram's limit on a message's visible text
TELEGRAM_BUDGET = 3900  # what we aim for (margin for apprise/Telegram rewrites)
SUBJECT_MAX = 200
RLM = "\u200f"
ELLIPSIS = "…"

# Longest visible lengths (in characters) of the fixed parts of a message;
# a hostile feed could otherwise leave no room for the snippet.
TITLE_MAX = 400
OUTLET_MAX = 100
_TOPIC_MAX = 200
_TOPIC_LINE_MAX = 180  # several topics' names in one line (grouped message); fits in SUBJECT_MAX after "[monitor] "
_NAME_MIN = 16  # a name in such a line keeps at least this many characters
_TERMS_MAX = 800
_URL_SHOWN_MAX = 300

FONT = "Tahoma,'Segoe UI','Noto Naskh Arabic','Noto Sans Arabic',Arial,sans-serif"

# Bidi embedding/override (U+202A-U+202E), isolates (U+2066-U+2069),
# zero-width space/non-joiner/joiner (U+200B-U+200D), word joiner (U+2060)
# and BOM / zero-width no-break space (U+FEFF).
_INVISIBLE_RE = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]")
_ARABIC_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u0870-\u089f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")
_TAG_RE = re.compile(r"<[^>]*>")

# Labels (our own UI text).
L_OUTLET = "المصدر"
L_TOPIC = "الموضوع"
L_TERMS = "الكلمات المطابقة"
L_ALSO = "ورد أيضاً في"  # "also reported by": other outlets of the same story
L_PUBLISHED = "تاريخ النشر"  # "publication date"
_ALSO_MAX = 300
# At most this many other copies are listed (each outlet <= OUTLET_MAX characters visible, so the
# list stays under ~1,100 of Telegram's 4,096); the rest are counted: "و{n} أخرى" ("and n more").
ALSO_SHOWN = 10


def l_more(n: int) -> str:
    """ "and n more" (Arabic), for a list of copies cut at ALSO_SHOWN."""
    return f"و{n} أخرى"


# --------------------------------------------------------------------------
# text helpers
# --------------------------------------------------------------------------


def clean(text: str) -> str:
    """Feed text as one line: invisible bidi/zero-width characters removed,
    line breaks (CR, LF, U+2028, U+2029, U+0085), tabs and other control
    characters replaced by spaces, whitespace collapsed, ends stripped."""
    text = strip_format(_INVISIBLE_RE.sub("", text or ""))  # every format character (Cf): links.py
    text = "".join(" " if (unicodedata.category(ch) in ("Cc", "Zl", "Zp")) else ch for ch in text)
    return " ".join(text.split())


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def telegram_visible(markup: str) -> str:
    """The text Telegram shows for our own markup (tags dropped, entities
    decoded). Only valid for markup built here, where every ``<`` in text is
    escaped."""
    return html.unescape(_TAG_RE.sub("", markup))


def has_arabic(text: str) -> bool:
    return bool(_ARABIC_RE.search(text))


def cut_words(text: str, limit: int, *, measure: Callable[[str], int] = len, ellipsis: str = ELLIPSIS) -> str:
    """``text`` if ``measure(text) <= limit``, else its longest prefix ending
    at a word boundary with ``ellipsis`` appended that fits in ``limit``.

    Cuts plain text only (escape afterwards), so it can never split a tag or
    an entity; never splits a surrogate pair (works on code points). Falls
    back to a cut inside a word when the text has no usable space."""
    if measure(text) <= limit:
        return text
    room = limit - measure(ellipsis)
    if room <= 0:
        return ""
    # longest prefix that fits
    used = 0
    end = 0
    for i, ch in enumerate(text):
        w = measure(ch)
        if used + w > room:
            break
        used += w
        end = i + 1
    prefix = text[:end]
    if end < len(text) and not text[end].isspace():
        space = prefix.rfind(" ")
        # keep a word-boundary cut unless it would throw away most of the text
        if space > 0 and space >= end // 2:
            prefix = prefix[:space]
        else:
            # never end on a combining mark (e.g. Arabic harakat)
            while prefix and unicodedata.combining(prefix[-1]):
                prefix = prefix[:-1]
    prefix = prefix.rstrip()
    if not prefix:
        return ""
    return prefix + ellipsis


def rtl(line: str) -> str:
    """Telegram line: start with RLM when it holds Arabic."""
    return RLM + line if has_arabic(telegram_visible(line)) else line


def plain_rtl(line: str) -> str:
    return RLM + line if has_arabic(line) else line


# --------------------------------------------------------------------------
# alert parts
# --------------------------------------------------------------------------


TERMS_SHOWN = 5  # strongest terms on an alert's terms line (issue 18, item 13: 3-5)


def strongest_terms(match: Match, limit: int = TERMS_SHOWN) -> list[str]:
    """The `limit` terms of the match that weigh most in its score, strongest first: one entry
    per term as the rule writes it (the clitic and variant spellings it matched fold into it;
    ``monitor explain`` shows those). A term's strength is the matcher's own
    (:func:`monitor.matching.relevance.term_scores`: weight x title/lead factor, repeats
    1/k); veto (``none``) hits are left out; ties keep the order of first hit."""
    scores = term_scores([h for h in match.hits if h.group != "none"])
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])  # stable: ties keep first-hit order
    out: list[str] = []
    for term, _ in ranked:
        shown = clean(term)
        if shown and shown not in out:
            out.append(shown)
        if len(out) == limit:
            break
    return out


def terms_plain(match: Match) -> str:
    """The terms line: :func:`strongest_terms` joined by the Arabic comma."""
    return cut_words("، ".join(strongest_terms(match)), _TERMS_MAX)


def published_text(published: datetime | None, tz: str | None = None) -> str:
    """An article's publication time in the channel's time zone, e.g. ``"2015-07-21 10:00
    Asia/Riyadh"`` (``tz``: an IANA name, None: UTC; a naive time is taken as UTC); "" if unknown."""
    if published is None:
        return ""
    aware = published if published.tzinfo is not None else published.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(tz) if tz else UTC)
    return f"{local:%Y-%m-%d %H:%M} {tz or 'UTC'}"


def _subject(topic: str, title: str, *, prefix: str = "") -> str:
    """`prefix topic: title` within SUBJECT_MAX; the title is cut first, so every topic a
    grouped message names stays in its subject (issue 18)."""
    topic = cut_words(clean(topic), SUBJECT_MAX - len(prefix))
    title = clean(title)
    head = f"{prefix}{topic}"
    if not title:
        return head
    room = SUBJECT_MAX - len(head) - 2
    title = cut_words(title, room) if room >= 10 else ""
    return clean(f"{head}: {title}") if title else head


def topic_line(names: list[str]) -> str:
    """Several topics' names as one topic line (joined by the Arabic comma "، ") within
    _TOPIC_LINE_MAX characters: each name is cut in its middle (its start and end kept, as
    names often differ at the end: "... (2)") to an equal share, never under _NAME_MIN; the
    list itself is never cut, so every topic is named (issue 18)."""
    sep = "، "
    share = max(_NAME_MIN, (_TOPIC_LINE_MAX - len(sep) * (len(names) - 1)) // max(1, len(names)))
    return sep.join(cut_middle(clean(n), share) for n in names)


def cut_middle(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and end (two thirds,
    one third of the room) around an ellipsis, ``limit`` characters in all."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ELLIPSIS))
    tail = room // 3
    return (
        text[: room - tail].rstrip() + ELLIPSIS + text[len(text) - tail :].lstrip() if tail else text[:room] + ELLIPSIS
    )


def render_alert(
    article: Article,
    match: Match,
    *,
    outlet: str,
    channel_kind: ChannelKind,
    also: Sequence[ReportedBy | str] = (),
    tz: str | None = None,
) -> RenderedAlert:
    """Render one alert for ``channel_kind``.

    ``also``: the other copies of the article (or articles of its story), each an outlet with
    its link (:class:`ReportedBy`; a bare string is an outlet without a link). They make an
    "also reported by" part under the outlet: each outlet linked to its copy (email also shows
    the address), at most ``ALSO_SHOWN`` of them and "و{n} أخرى" ("and n more") for the rest.
    ``tz``: the channel's time zone (IANA name, None: UTC) for the publication-time line (none
    when unknown).
    """
    published_t = published_text(article.published, tz)
    outlet_t = cut_words(clean(outlet), OUTLET_MAX)
    copies, more = also_entries(also)
    also_t = also_plain(copies, more)
    title_t = cut_words(clean(article.title), TITLE_MAX) or link_url(clean_link(article.url))
    topic_t = cut_words(clean(match.topic_name), _TOPIC_MAX)
    terms_t = terms_plain(match)
    snippet_t = clean(match.snippet)
    # tracking parameters dropped; http(s) only, no userinfo, homograph hosts as punycode
    url_t = link_url(clean_link(article.url))
    url_shown = cut_words(url_t, _URL_SHOWN_MAX)

    text = _plain_text(outlet_t, title_t, topic_t, terms_t, snippet_t, url_t, also_t, published_t)

    if CHANNEL_KINDS[channel_kind].telegram_html:
        also_h = also_html(copies, more, show_url=False)
        return RenderedAlert(
            subject=_subject(topic_t, title_t),
            text=text,
            html=_telegram_html(outlet_t, title_t, topic_t, terms_t, snippet_t, url_t, url_shown, also_h, published_t),
        )
    return RenderedAlert(
        subject=_subject(topic_t, title_t, prefix="[monitor] "),
        text=text,
        html=_email_html(
            outlet_t, title_t, topic_t, terms_t, snippet_t, url_t, also_html(copies, more, show_url=True), published_t
        ),
    )


def also_entries(also: Sequence[ReportedBy | str], *, shown: Sequence[str] = ()) -> tuple[list[tuple[str, str]], int]:
    """The copies an alert lists, as (clean outlet, safe link or "") pairs, at most ALSO_SHOWN,
    and how many more there are. An entry with neither an outlet nor a usable link is dropped,
    as is a link listed already (one page in two feeds) or among `shown` (links the message
    shows elsewhere: a digest's other articles of the story); an entry without an outlet is
    named by its link's host."""
    entries: list[tuple[str, str]] = []
    links: set[str] = {normalize_url(u) for u in shown if u}
    for a in also:
        outlet, url = (a, "") if isinstance(a, str) else (a.outlet, a.url)
        link = link_url(clean_link(clean(url))) if url else ""
        name = cut_words(clean(outlet), OUTLET_MAX) or (link.split("/")[2] if link else "")
        key = normalize_url(link) if link else ""
        if name and not (key and key in links):
            entries.append((name, link))
            links.add(key)
    return entries[:ALSO_SHOWN], max(0, len(entries) - ALSO_SHOWN)


def also_plain(copies: list[tuple[str, str]], more: int) -> str:
    """The "also reported by" part as plain text: one line when no copy has a link (outlets
    joined by "، "), else one "- outlet: link" line per copy; "" for no copies."""
    if not copies:
        return ""
    tail = [l_more(more)] if more else []
    if not any(link for _, link in copies):
        return cut_words("، ".join([o for o, _ in copies] + tail), _ALSO_MAX)
    lines = [f"- {o}: {link}" if link else f"- {o}" for o, link in copies] + [f"- {t}" for t in tail]
    return "\n" + "\n".join(lines)


def also_html(copies: list[tuple[str, str]], more: int, *, show_url: bool) -> str:
    """The copies as markup (escaped): each outlet linked to its copy, joined by "، " (Telegram),
    or one per line with the address shown (email: apprise's text/plain part keeps it)."""

    def e(s: str) -> str:
        return html.escape(s, quote=True)

    items = []
    for outlet, link in copies:
        if not link:
            items.append(e(outlet))
        elif show_url:
            items.append(f'{e(outlet)}: <a href="{e(link)}" dir="ltr">{e(cut_words(link, _URL_SHOWN_MAX))}</a>')
        else:
            items.append(f'<a href="{e(link)}">{e(outlet)}</a>')
    if more:
        items.append(e(l_more(more)))
    return ("<br>\n" if show_url else "، ").join(items)


def _plain_text(
    outlet: str, title: str, topic: str, terms: str, snippet: str, url: str, also: str = "", published: str = ""
) -> str:
    also_line = (f"{L_ALSO}:{also}" if also.startswith("\n") else f"{L_ALSO}: {also}") if also else ""
    lines = [f"{L_OUTLET}: {outlet}", *also_line.split("\n"), title, f"{L_TOPIC}: {topic}"]
    if published:
        lines.append(f"{L_PUBLISHED}: {published}")
    if terms:
        lines.append(f"{L_TERMS}: {terms}")
    if snippet:
        lines.append(snippet)
    body = "\n".join(plain_rtl(line) for line in lines if line)
    return f"{body}\n\n{url}\n" if url else body + "\n"


def _telegram_html(
    outlet: str,
    title: str,
    topic: str,
    terms: str,
    snippet: str,
    url: str,
    url_shown: str,
    also: str = "",
    published: str = "",
) -> str:
    def e(s: str) -> str:  # already clean
        return html.escape(s, quote=True)

    head = []
    if outlet:
        head.append(f"<b>{e(outlet)}</b>")
    if also:  # markup, escaped by also_html
        head.append(f"<b>{L_ALSO}:</b> {also}")
    if url:
        head.append(f'<b><a href="{e(url)}">{e(title)}</a></b>')
    else:
        head.append(f"<b>{e(title)}</b>")
    head.append(f"<b>{L_TOPIC}:</b> {e(topic)}")
    if published:
        head.append(f"<b>{L_PUBLISHED}:</b> {e(published)}")
    if terms:
        head.append(f"<b>{L_TERMS}:</b> {e(terms)}")
    tail = []
    if url:
        # the URL as visible text (not a Latin line: no RLM); the link keeps
        # the full address even if the shown one is shortened
        tail.append(f'<a href="{e(url)}">{e(url_shown)}</a>')

    def build(snip: str) -> str:
        lines = head + ([f"<i>{e(snip)}</i>"] if snip else []) + tail
        return "\n".join(rtl(line) for line in lines)

    def visible_len(markup: str) -> int:
        # apprise may turn each "\n" into "\r\n": count 2 per line break
        vis = telegram_visible(markup)
        return utf16_len(vis) + vis.count("\n")

    fixed = visible_len(build(""))
    if snippet:
        # the snippet line adds itself, a line break (2) and an RLM (1)
        room = TELEGRAM_BUDGET - fixed - 3
        snippet = cut_words(snippet, room, measure=utf16_len) if room > 20 else ""
    message = build(snippet)
    if visible_len(message) > TELEGRAM_BUDGET:  # pragma: no cover - safety net
        message = build("")
    return message


def _email_html(
    outlet: str, title: str, topic: str, terms: str, snippet: str, url: str, also: str = "", published: str = ""
) -> str:
    def e(s: str) -> str:
        return html.escape(s, quote=True)

    p = '<p style="margin:0 0 8px 0">'
    parts = [f'<div dir="rtl" lang="ar" style="text-align:right;font-family:{FONT};font-size:15px;line-height:1.6">']
    if outlet:
        parts.append(f"{p}<b>{L_OUTLET}:</b> {e(outlet)}</p>")
    if also:  # markup, escaped by also_html; one copy a line
        parts.append(f"{p}<b>{L_ALSO}:</b><br>\n{also}</p>" if "<br>" in also else f"{p}<b>{L_ALSO}:</b> {also}</p>")
    if url:
        parts.append(f'<p style="margin:0 0 8px 0;font-size:18px"><b><a href="{e(url)}">{e(title)}</a></b></p>')
    else:
        parts.append(f'<p style="margin:0 0 8px 0;font-size:18px"><b>{e(title)}</b></p>')
    parts.append(f"{p}<b>{L_TOPIC}:</b> {e(topic)}</p>")
    if published:
        parts.append(f"{p}<b>{L_PUBLISHED}:</b> {e(published)}</p>")
    if terms:
        parts.append(f"{p}<b>{L_TERMS}:</b> {e(terms)}</p>")
    if snippet:
        parts.append(
            f'<p style="margin:0 0 8px 0;padding:6px 10px;border-right:3px solid #ccc;color:#333">{e(snippet)}</p>'
        )
    if url:
        # plain URL line: survives in the text/plain part apprise derives
        parts.append(
            f'<p dir="ltr" style="margin:0;text-align:left;font-size:12px"><a href="{e(url)}">{e(url)}</a></p>'
        )
    parts.append("</div>")
    return "\n".join(parts)


# --------------------------------------------------------------------------
# test message
# --------------------------------------------------------------------------

_TEST_AR = "هذه رسالة تجريبية من monitor"
_TEST_EN = "This is a test message from monitor."


def render_test_message(channel_kind: ChannelKind) -> RenderedAlert:
    """The message ``monitor test-alert`` sends (Arabic + English)."""
    text = f"{RLM}{_TEST_AR}\n{_TEST_EN}\n"
    if CHANNEL_KINDS[channel_kind].telegram_html:
        return RenderedAlert(
            subject="monitor: رسالة تجريبية / test message",
            text=text,
            html=f"<b>monitor</b>\n{RLM}{_TEST_AR}\n{_TEST_EN}",
        )
    return RenderedAlert(
        subject="[monitor] رسالة تجريبية / test message",
        text=text,
        html=(
            f'<div dir="rtl" lang="ar" style="text-align:right;font-family:{FONT}">'
            f"<p><b>monitor</b></p><p>{_TEST_AR}</p>"
            f'<p dir="ltr" style="text-align:left">{_TEST_EN}</p></div>'
        ),
    )
