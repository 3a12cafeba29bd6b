"""Story follow-ups: the short "update" message, and how a threaded alert is sent.

A topic with ``alert: per-story`` and ``follow_ups: true`` sends, when a later
article that is not a copy joins a story it already alerted on, a short update
(storage/stories.follow_up_of decides, at most one per ``dedup.follow_up_gap``).
On Telegram it is a reply to the message that carried the story's first alert
(monitor/delivery/telegram.py keeps that message's id); by email it carries
``In-Reply-To``/``References`` to the first alert's stable ``Message-ID``.
"""

from __future__ import annotations

import html
import urllib.parse

from monitor.config.schema import Topic
from monitor.delivery.links import link_url
from monitor.delivery.render import FONT, OUTLET_MAX, TITLE_MAX, clean, cut_words, plain_rtl, rtl
from monitor.models import CHANNEL_KINDS, Article, ChannelKind, RenderedAlert

L_UPDATE = "تحديث"  # "update": the head of a follow-up


def render_follow_up(article: Article, *, outlet: str, topic: str, channel_kind: ChannelKind) -> RenderedAlert:
    """ "تحديث" + outlet, the title and the URL (no terms, no snippet)."""

    def e(s: str) -> str:
        return html.escape(s, quote=True)

    outlet_t = cut_words(clean(outlet), OUTLET_MAX)
    title_t = cut_words(clean(article.title), TITLE_MAX) or link_url(article.url)
    url_t = link_url(article.url)
    head = f"{L_UPDATE}: {outlet_t}" if outlet_t else L_UPDATE
    text = "\n".join(plain_rtl(x) for x in (head, title_t)) + (f"\n\n{url_t}\n" if url_t else "\n")
    subject = cut_words(clean(f"[monitor] {L_UPDATE} {clean(topic)}: {title_t}"), 200)
    if CHANNEL_KINDS[channel_kind].telegram_html:
        lines = [
            f"<b>{e(head)}</b>",
            f'<b><a href="{e(url_t)}">{e(title_t)}</a></b>' if url_t else f"<b>{e(title_t)}</b>",
        ]
        if url_t:
            lines.append(f'<a href="{e(url_t)}">{e(cut_words(url_t, 300))}</a>')
        return RenderedAlert(subject.removeprefix("[monitor] "), text, "\n".join(rtl(x) for x in lines))
    link = f'<a href="{e(url_t)}">{e(title_t)}</a>' if url_t else e(title_t)
    body = (
        f'<div dir="rtl" lang="ar" style="text-align:right;font-family:{FONT};font-size:15px;'
        f'line-height:1.6"><p style="margin:0 0 8px 0"><b>{e(head)}</b></p>'
        f'<p style="margin:0 0 8px 0;font-size:18px"><b>{link}</b></p>'
        + (f'<p style="margin:0" dir="ltr">{e(url_t)}</p>' if url_t else "")
        + "</div>"
    )
    return RenderedAlert(subject, text, body)


def copy_scope(topic: Topic | None) -> str:
    """What an alert of `topic` lists as "also reported by": "story" (every other article of
    its story, for per-story topics) or "article" (the other copies of its copy group)."""
    return "story" if topic is not None and topic.alert == "per-story" else "article"


def threaded(topic: Topic | None) -> bool:
    """Whether a topic's alerts are sent so follow-ups can reply to them."""
    return topic is not None and topic.alert == "per-story" and bool(topic.follow_ups)


def email_reply_url(url: str, parent_message_id: str) -> str:
    """An apprise mailto(s) URL that also sets In-Reply-To and References (apprise `+Header=`)."""
    q = urllib.parse.urlencode({"+In-Reply-To": parent_message_id, "+References": parent_message_id})
    return url + ("&" if "?" in url else "?") + q
