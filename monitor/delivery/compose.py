"""Alert composition: from an article and its matches to the outbox rows, and back at send time.

`Composer` owns what the pipeline used to do for delivery: the channel kind of each
channel, the user's templates (Jinja2, only when `notify.templates_dir` is set),
apprise's process-wide Telegram API base, and the per-topic choices (one alert per
article or per story, story follow-ups). `alerts(...)` gives the `NewAlert` rows to
store with the article; `message(alert)` is what the outbox sends: the stored text,
or, when other outlets have reported the story since, the alert re-rendered to list
them ("also reported by").
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime

from monitor.config.load import Config
from monitor.delivery import followups
from monitor.delivery.grouping import stored_message
from monitor.delivery.render import render_alert, topic_line
from monitor.delivery.templates import Templates
from monitor.models import Article, ChannelKind, Match, NewAlert, RenderedAlert, ReportedBy, TermHit, channel_kind
from monitor.storage import OutboxAlert, Store

# (channel, topic id, now) -> (hold_until, digest): when a channel holds an alert for a digest
Hold = Callable[[str, str, datetime], tuple[datetime | None, str | None]]


class Composer:
    """Renders alerts for one config; shared by the pipeline (at store time) and the outbox
    (at send time). Raises ConfigError when the user's templates do not compile."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self._topics = {t.id: t for t in config.topics}
        self._kinds = {name: channel_kind(urls) for name, urls in config.channels.items()}
        api = config.notify.telegram_api_url
        if api or "monitor.delivery.notify" in sys.modules:
            # apprise's Telegram plugin is pointed at this config's Bot API (process-wide). With
            # none set and notify not imported yet, it has apprise's default already: notify and
            # apprise's senders are then left to the first send (issue 16: an idle pass sends nothing)
            from monitor.delivery import notify

            notify.configure(api)
        tdir = config.notify.templates_dir
        self.templates = Templates(config.path.parent / tdir) if tdir else None

    def kind(self, channel: str) -> ChannelKind:
        return self._kinds.get(channel, ChannelKind.OTHER)

    def tz(self, channel: str) -> str:
        """A channel's time zone (its own, else notify.timezone) for publication times."""
        own = self.config.channel(channel).timezone if channel in self.config.channels else None
        return own or self.config.notify.timezone

    def per(self, topic_id: str) -> str:
        """ "story" for topics alerted once per story, else "article" (once per copy group)."""
        return followups.copy_scope(self._topics.get(topic_id))

    def alerts(self, article: Article, matches: list[Match], outlet: str, now: datetime, hold: Hold) -> list[NewAlert]:
        """One outbox row per match and channel of its topic, rendered now."""
        out: list[NewAlert] = []
        for m in matches:
            for channel in self._topics[m.topic_id].notify:
                r = self.render(article, m, outlet, self.kind(channel), tz=self.tz(channel))
                out.append(
                    NewAlert(
                        m.topic_id,
                        channel,
                        r.subject,
                        r.text,
                        r.html,
                        *hold(channel, m.topic_id, now),
                        per=self.per(m.topic_id),
                        follow_up=self.follow_up(article, m, outlet, channel),
                    )
                )
        return out

    def render(
        self,
        article: Article,
        match: Match,
        outlet: str,
        kind: ChannelKind,
        also: tuple[ReportedBy, ...] = (),
        tz: str | None = None,
    ) -> RenderedAlert:
        """The built-in layout, or the user's templates over it; `also`: the other copies (outlet
        and link) to list; `tz` is the channel's time zone for the publication time."""
        r = render_alert(article, match, outlet=outlet, channel_kind=kind, also=also, tz=tz)
        if self.templates:
            return self.templates.apply(r, article, match, outlet=outlet, kind=kind, also=also, tz=tz)
        return r

    def follow_up(self, article: Article, match: Match, outlet: str, channel: str) -> tuple[str, str, str] | None:
        """The short update sent if this article joins an alerted story (topics with follow-ups)."""
        if not followups.threaded(self._topics.get(match.topic_id)):
            return None
        r = followups.render_follow_up(article, outlet=outlet, topic=match.topic_name, channel_kind=self.kind(channel))
        return r.subject, r.text, r.html

    def message(self, alert: OutboxAlert) -> RenderedAlert:
        """The stored message, or, when other copies (or, per-story, articles of its story) have
        arrived since, one re-rendered to list each with its outlet and link (the outbox calls
        this at send time; a copy arriving after the send is only recorded in the story)."""
        return self.message_group([alert])

    def message_group(self, group: list[OutboxAlert]) -> RenderedAlert:
        """The message for `group`: one alert, or the alerts of ONE article for several topics
        on one channel (issue 18, item 12), sent as one message.

        One alert: as stored, or re-rendered when other outlets have reported it since ("also
        reported by"); a story follow-up as made. Several: re-rendered once from the article
        and every topic's match: the topic line names each topic (in the group's order, joined
        by "، "), the terms line holds the strongest terms of all of them, the snippet is the
        first topic's, "also reported by" the union. Templates are global (not per topic), so
        the one ``notify.templates_dir`` layout applies with ``topic`` set to that joined line.
        If a match row is gone, the stored messages are joined instead (nothing is dropped)."""
        first = group[0]
        if first.reply_to is not None and len(group) == 1:  # a story follow-up: short, as made
            return RenderedAlert(first.subject, first.text, first.html)
        also = list(
            dict.fromkeys(o for a in group for o in self.store.also_reported(a.article_id, self.per(a.topic_id)))
        )
        if len(group) == 1 and not also:
            return stored_message(group, self.kind(first.channel))
        sources = [self.store.alert_source(a.id) for a in group]
        found = [s for s in sources if s is not None]
        if len(found) < len(sources):
            return stored_message(group, self.kind(first.channel))
        stored = found[0][0]
        article = Article(
            url=stored.url, url_key="", feed=stored.feed, title=stored.title, body="", published=stored.published
        )
        matches = []
        for _, topic_id, hits, snippet in found:
            topic = self._topics.get(topic_id)
            name = topic.name if topic else topic_id
            matches.append(Match(topic_id, name, tuple(TermHit(**h) for h in json.loads(hits)), snippet))
        match = merge_matches(matches)
        return self.render(
            article, match, stored.outlet, self.kind(first.channel), also=tuple(also), tz=self.tz(first.channel)
        )


def merge_matches(matches: list[Match]) -> Match:
    """One match standing for several topics' matches of one article: topic names joined by
    "، " (Arabic comma) in order, each cut to fit (:func:`monitor.delivery.render.topic_line`),
    every hit kept (the terms line picks the strongest), the
    first non-empty snippet; ``topic_id`` is the ids joined by ",". One match: itself."""
    if len(matches) == 1:
        return matches[0]
    names = list(dict.fromkeys(m.topic_name for m in matches))
    snippet = next((m.snippet for m in matches if m.snippet), "")
    return Match(
        ",".join(m.topic_id for m in matches), topic_line(names), tuple(h for m in matches for h in m.hits), snippet
    )
