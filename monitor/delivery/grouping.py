"""Which due alerts share one message (issue 18, item 12), and the stored form of a group.

One article matching several topics that go to the same channel is ONE message per target
naming every topic. The outbox keeps one row per (article, topic, channel); :func:`batches`
picks the rows sent together, which are then sent, retried, marked sent or dead together
(monitor/delivery/outbox.py), so nothing is lost and nothing is sent twice. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.config.schema import Topic
from monitor.delivery import followups
from monitor.models import CHANNEL_KINDS, ChannelKind, RenderedAlert
from monitor.storage import DeliveryProgress, OutboxAlert


def groupable(alert: OutboxAlert, topics: Mapping[str, Topic]) -> bool:
    """Whether `alert` may share one message with other topics' alerts of its article: not a
    story follow-up, not an alert of a topic whose alerts start a reply thread
    (``follow_ups``: the thread's first message belongs to one topic), not an operator notice."""
    return (
        alert.reply_to is None
        and not alert.topic_id.startswith("ops:")
        and not followups.threaded(topics.get(alert.topic_id))
    )


def batches(due: list[OutboxAlert], topics: Mapping[str, Topic]) -> list[list[OutboxAlert]]:
    """One channel's due single (not digest) alerts -> messages, in order of their oldest row:
    the :func:`groupable` alerts of one article that every target has had the same of (equal
    delivery progress) form one message; every other alert is one message."""
    out: list[list[OutboxAlert]] = []
    index: dict[tuple[int, str], list[OutboxAlert]] = {}
    for alert in due:
        if not groupable(alert, topics):
            out.append([alert])
            continue
        key = (alert.article_id, DeliveryProgress.parse(alert.delivered).format())
        if key in index:
            index[key].append(alert)
        else:
            index[key] = [alert]
            out.append(index[key])
    return out


def stored_message(group: list[OutboxAlert], kind: ChannelKind) -> RenderedAlert:
    """The message of `group` as stored when the alerts were made: one alert's own; several
    (one article, several topics, re-rendering impossible) joined: subjects by " | ", texts
    by a blank line, HTML by a blank line (Telegram) or a rule (email), so no topic is lost."""
    if len(group) == 1:
        return RenderedAlert(group[0].subject, group[0].text, group[0].html)
    sep = "\n\n" if CHANNEL_KINDS[kind].telegram_html else "\n<hr>\n"
    return RenderedAlert(
        " | ".join(dict.fromkeys(a.subject for a in group)),
        "\n\n".join(a.text for a in group),
        sep.join(a.html for a in group),
    )


@dataclass(frozen=True)
class Planned:
    """One message a pass would send (``monitor once --dry-run``): its channel, the outbox
    rows it carries, their topic ids, whether it is a digest, and its parts as rendered."""

    channel: str
    alert_ids: tuple[int, ...]
    topics: tuple[str, ...]
    digest: bool
    parts: tuple[RenderedAlert, ...]
