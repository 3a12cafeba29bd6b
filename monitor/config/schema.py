"""The config.yaml schema: strict pydantic models, one per section (see monitor.config).

Unknown keys are refused (`extra="forbid"`); cross-key checks and the YAML
path/line in error messages live in monitor.config, which loads these.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from monitor.config.values import parse_duration, parse_hhmm, parse_listen, parse_rate, parse_window
from monitor.matching.rules import Near, TopicRule, as_term
from monitor.matching.rules import Term as MatchTerm
from monitor.sources import DEFAULT_KIND, KINDS

if TYPE_CHECKING:
    from monitor.sources.page import LinkRules


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Defaults(_Strict):
    interval: float = 600.0
    jitter: float = 0.1  # fraction of the interval added at random to each run
    timeout: float = 30.0  # per HTTP request
    user_agent: str = "monitor/0.1 (+https://example.invalid/monitor; Arabic news monitor)"
    retention: float = 30 * 86400.0  # how long article text is kept
    # a feed's first poll (or the first after an outage this long) alerts only items published
    # this recently; older and undated ones are recorded as skipped (issue 12, loss 9; the rules:
    # monitor.sources.backfill). None ("off"): every item may alert, as before
    backfill: float | None = 86400.0
    # a poll drops If-None-Match/If-Modified-Since once the feed's last full answer is this
    # old, so a server keeping its ETag while the content changes hides items at most this
    # long (monitor.fetch.validators)
    full_fetch_after: float = 6 * 3600.0

    _dur = field_validator("interval", "timeout", "retention", "full_fetch_after", mode="before")(
        lambda v: parse_duration(v)
    )

    @field_validator("backfill", mode="before")
    @classmethod
    def _backfill(cls, v: object) -> float | None:
        if v is None or v is False or (isinstance(v, str) and v.strip().lower() in ("off", "none", "all")):
            return None
        try:
            return parse_duration(v)
        except ValueError:
            raise ValueError(f"must be a duration like 12h or 1d, or `off` (got {v!r})") from None

    @field_validator("jitter")
    @classmethod
    def _jitter(cls, v: float) -> float:
        if not 0 <= v <= 1:
            raise ValueError(f"must be between 0 and 1 (got {v})")
        return v


class Feed(_Strict):
    name: str = Field(min_length=1)
    url: str
    interval: float | None = None
    min_interval: float | None = None  # set: adaptive, polled between this (busy) and interval (quiet)
    outlet: str | None = None  # shown in alerts; defaults to the feed name
    kind: str = DEFAULT_KIND  # a key of monitor.sources.KINDS: rss, page (a section page), sitemap (news sitemap)
    links: str | None = None  # kind page: CSS selector for article links
    link_pattern: str | None = None  # kind page: RE2 (linear-time) pattern article URLs must match
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")  # else detected (ar / en)
    url_env: bool = False  # true: ${VAR} in `url` is read from the environment (see monitor.config.envvars)
    trusted: bool = False  # its own report alerts even when another source's copy came first
    full_fetch_after: float | None = None  # overrides defaults.full_fetch_after

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in KINDS:
            raise ValueError(f"must be one of {', '.join(KINDS)} (got {v!r})")
        return v

    @model_validator(mode="after")
    def _link_rules(self) -> Feed:
        takes = [k for k, source in KINDS.items() if source.takes_links]
        if KINDS[self.kind].takes_links:
            if not self.links and not self.link_pattern:
                raise ValueError(f"a `kind: {self.kind}` source needs `links` (CSS selector) or `link_pattern`")
            _ = self.link_rules  # compiled once here (ValueError naming the problem), kept for every poll
        elif self.links or self.link_pattern:
            raise ValueError(f"`links` and `link_pattern` are for `kind: {' / '.join(takes)}` sources")
        return self

    @cached_property
    def link_rules(self) -> LinkRules | None:
        """The compiled `links` / `link_pattern` (None for kinds that take no links); not a config key."""
        if not KINDS[self.kind].takes_links:
            return None
        from monitor.sources.page import compile_link_rules  # lxml, cssselect, RE2: page sources only

        return compile_link_rules(self.links, self.link_pattern)

    _dur = field_validator("interval", "min_interval", "full_fetch_after", mode="before")(
        lambda v: None if v is None else parse_duration(v)
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        m = re.match(r"^(https?)://[^\s/]+", v, re.IGNORECASE)
        if not m:
            raise ValueError(f"must be an http:// or https:// URL (got {v!r})")
        v = (
            m.group(1).lower() + v[len(m.group(1)) :]
        )  # `HTTPS://` pasted from a site: schemes ignore case (RFC 3986 3.1)
        if re.search(r"[\s\x00-\x1f\x7f]", v):
            raise ValueError(f"has a space or control character; percent-encode a space as %20 (got {v!r})")
        return v


class TermSpec(_Strict):
    """A term with options: `{term: إيران, weight: 2, field: title, name: true}`."""

    term: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)
    field: Literal["any", "title"] = "any"
    name: bool = False


def _term_kind(v: Any) -> str:
    return "spec" if isinstance(v, (dict, TermSpec)) else "str"


Term = Annotated[
    Annotated[Annotated[str, Field(min_length=1)], Tag("str")] | Annotated[TermSpec, Tag("spec")],
    Discriminator(_term_kind),
]
UNION_TAGS = ("str", "list", "spec")  # union tags pydantic puts in error paths: not config keys
Terms = list[Term]


class GroupSpec(_Strict):
    """A group with options for all its terms: `{terms: [...], field: title, weight: 2}`."""

    terms: Terms = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)  # multiplies each term's weight
    field: Literal["any", "title"] = "any"  # title: every term of the group, title only


def _group_kind(v: Any) -> str:
    return "spec" if isinstance(v, (dict, GroupSpec)) else "list"


# A group is a list of terms or a GroupSpec; tagged so an error names only the one meant.
Group = Annotated[
    Annotated[Annotated[Terms, Field(min_length=1)], Tag("list")] | Annotated[GroupSpec, Tag("spec")],
    Discriminator(_group_kind),
]
AnyGroup = Annotated[Annotated[Terms, Tag("list")] | Annotated[GroupSpec, Tag("spec")], Discriminator(_group_kind)]


def _bare_groups(v: Any) -> Any:
    # A bare term inside a list of groups is a one-term group: `all: [روسيا, [...]]`.
    if isinstance(v, list):
        return [[g] if isinstance(g, str) or (isinstance(g, dict) and "terms" not in g) else g for g in v]
    return v


def _group_terms(group: Any) -> list[Any]:
    return group.terms if isinstance(group, GroupSpec) else group


def _match_terms(group: Any) -> tuple[Any, ...]:
    """Config terms (a list or a GroupSpec) -> matcher terms (str or MatchTerm)."""
    out: list[Any] = []
    for t in _group_terms(group):
        if isinstance(group, GroupSpec):
            base = as_term(t) if isinstance(t, str) else MatchTerm(t.term, t.weight, t.field, t.name)
            field = "title" if "title" in (group.field, base.field) else "any"
            out.append(replace(base, weight=base.weight * group.weight, field=field))
        else:
            out.append(t if isinstance(t, str) else MatchTerm(t.term, t.weight, t.field, t.name))
    return tuple(out)


class NearSpec(_Strict):
    """Every group must have a hit within `within` words of the others."""

    groups: list[Group] = Field(min_length=2)
    within: int = Field(default=20, ge=1, le=1000)

    _g = field_validator("groups", mode="before")(lambda v: _bare_groups(v))


class Topic(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1)
    all: list[Group] = []
    any: AnyGroup = []
    none: Terms = []
    near: list[NearSpec] = []
    min_score: float | None = Field(default=None, ge=0)
    min_group_score: float = Field(default=0.0, ge=0)
    feeds: list[str] = []
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = []
    notify: list[str] = Field(min_length=1)
    urgent: bool = False  # sent at once, even in quiet hours or on a digest channel
    delivery: Literal["immediate", "hourly", "daily"] | None = None  # overrides the channel's
    alert: Literal["per-article", "per-story"] = "per-article"  # per-story: later articles update the story
    follow_ups: bool = False  # per-story: a later non-copy article of an alerted story sends a short update

    _g = field_validator("all", mode="before")(lambda v: _bare_groups(v))
    # `notify: telegram` is `notify: [telegram]` (the same for feeds and languages)
    _one = field_validator("notify", "feeds", "languages", mode="before")(lambda v: [v] if isinstance(v, str) else v)

    @model_validator(mode="after")
    def _has_rule(self) -> Topic:
        if not self.all and not self.any and not self.near:
            raise ValueError("needs at least one of `all`, `any` or `near`")
        if self.follow_ups and self.alert != "per-story":
            raise ValueError("`follow_ups: true` needs `alert: per-story`")
        return self

    def rule(self) -> TopicRule:
        """The matcher's view of this topic."""
        terms = _match_terms
        return TopicRule(
            self.id,
            self.name,
            tuple(terms(g) for g in self.all),
            terms(self.any),
            terms(self.none),
            tuple(Near(tuple(terms(g) for g in n.groups), n.within) for n in self.near),
            self.min_score,
            self.min_group_score,
            tuple(self.feeds),
            tuple(self.languages),
        )


class Fetch(_Strict):
    """How the web is fetched (see README, "Fetching")."""

    allow_private_networks: bool = False  # let feeds/pages on loopback, LAN, link-local... be fetched
    allowed_networks: list[str] = []  # or only these private networks, e.g. 192.168.1.10/32
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)  # per response, after every decompression layer
    max_items: int = Field(default=1000, ge=1)  # items read from one feed or sitemap per poll (rest cut)
    max_depth: int = Field(default=256, ge=8, le=10_000)  # element nesting of a feed (deeper: error)
    max_page_depth: int = Field(default=1000, ge=8, le=100_000)  # element nesting of a page (deeper: error)
    max_elements: int = Field(default=40_000, ge=100)  # start tags read from one article page (rest cut)
    max_page_chars: int = Field(default=2_000_000, ge=1000)  # characters read from one article page (rest cut)
    max_connections: int = Field(default=8, ge=1)  # concurrent requests in total
    max_per_host: int = Field(default=2, ge=1)  # concurrent requests to one host
    backoff_cap: float = 6 * 3600.0  # a failing feed's interval doubles up to this
    flag_after: float = 86400.0  # a feed failing this long is flagged
    max_hint: float = 86400.0  # Retry-After / max-age / ttl are honoured up to this

    _dur = field_validator("backoff_cap", "flag_after", "max_hint", mode="before")(lambda v: parse_duration(v))

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for net in v:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"not an IP network like 192.168.1.0/24 (got {net!r})") from None
        return v


def _check_tz(v: str | None) -> str | None:
    if v is not None:
        try:
            ZoneInfo(v)
        except (ValueError, KeyError, OSError):
            raise ValueError(f"unknown time zone (got {v!r}); use a name like Asia/Riyadh") from None
    return v


class Notify(_Strict):
    telegram_api_url: str | None = None  # a self-hosted Bot API server, e.g. http://127.0.0.1:8081
    ops_channel: str | None = None  # where operator notices (dead alerts) go
    timezone: str = "UTC"  # default for channels' digests and quiet hours
    templates_dir: str | None = None  # Jinja2 templates replacing the built-in layout

    _tz = field_validator("timezone")(lambda v: _check_tz(v))


class Channel(_Strict):
    """The extended form of a channel (the short form is a URL or a list of URLs)."""

    urls: str | list[str]
    rate: str | list[str] | None = None  # e.g. [1/s, 20/m]; default: per target kind
    delivery: Literal["immediate", "hourly", "daily"] = "immediate"
    digest_at: str = "08:00"  # local time of the daily digest
    timezone: str | None = None  # default notify.timezone
    quiet_hours: str | None = None  # e.g. 23:00-07:00 (local)
    # Telegram link previews: off (default) | on (= below) | below | above the text; email ignores it
    link_preview: Literal["off", "on", "below", "above"] = "off"

    _tz = field_validator("timezone")(lambda v: _check_tz(v))

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: Any) -> Any:
        for r in [v] if isinstance(v, str) else v or []:
            parse_rate(r)
        return v

    @field_validator("digest_at")
    @classmethod
    def _at(cls, v: str) -> str:
        parse_hhmm(v)
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str | None) -> str | None:
        if v is not None:
            parse_window(v)
        return v


def _channel_form(v: Any) -> str:
    return "mapping" if isinstance(v, dict) else "list" if isinstance(v, list) else "url"


# one form per channel, picked by shape, so an error names only that form's problem
CHANNEL_FORMS = ("url", "list", "mapping")
ChannelValue = Annotated[
    Annotated[str, Tag("url")] | Annotated[list[str], Tag("list")] | Annotated[Channel, Tag("mapping")],
    Discriminator(_channel_form),
]


class Dedup(_Strict):
    window: float = 7 * 86400.0  # how long articles stay in the near-duplicate index
    copy_jaccard: float = 0.5  # word-3-shingle Jaccard at which two articles are copies
    story_window: float = 3 * 86400.0  # a story takes new articles this long after its last one
    story_similarity: float = 0.35  # cosine of two articles' key terms at which they tell one story
    follow_up_gap: float = 3600.0  # at most one follow-up per story (topic, channel) this often

    _dur = field_validator("window", "story_window", "follow_up_gap", mode="before")(lambda v: parse_duration(v))

    @field_validator("copy_jaccard", "story_similarity")
    @classmethod
    def _unit(cls, v: float) -> float:
        if not 0 < v <= 1:
            raise ValueError(f"must be above 0 and at most 1 (got {v})")
        return v


class Http(_Strict):
    listen: str | None = None  # e.g. 127.0.0.1:9464 serves /healthz and /metrics; unset: no listener
    max_connections: int = Field(default=16, ge=1, le=1024)  # served at once; the oldest idle one makes room
    request_timeout: float = 10.0  # seconds per connection (request and answer), then closed

    _dur = field_validator("request_timeout", mode="before")(lambda v: parse_duration(v))

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str | None) -> str | None:
        if v is not None:
            parse_listen(v)
        return v


class RawConfig(_Strict):
    storage: str = "sqlite:///monitor.db"
    defaults: Defaults = Defaults()
    notify: Notify = Notify()
    fetch: Fetch = Fetch()
    dedup: Dedup = Dedup()
    feeds: list[Feed] = Field(min_length=1)
    channels: dict[str, ChannelValue] = {}
    topics: list[Topic] = Field(min_length=1)
    http: Http = Http()
    reload_on_change: bool = False  # `monitor run` reloads when this file changes (as on SIGHUP)
    cluster: bool = False  # several `monitor run` nodes share one PostgreSQL store (service/cluster.py)
    cluster_stall_after: float = Field(default=30.0, ge=3.0)  # a node silent this long is dead: its jobs rerun
    _cluster_dur = field_validator("cluster_stall_after", mode="before")(lambda v: parse_duration(v))
