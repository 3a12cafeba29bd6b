"""config.yaml -> a validated, frozen Config (the daemon and `monitor check` share this).

Every problem is reported with its YAML path and line (`topics[0].all[1]:
must not be empty`), all at once. `${VAR}` (or `${VAR:-default}`) in a
string of `storage`, `channels`, `notify`, `http` (and a feed's `url` with
`url_env: true`) is taken from the environment; a missing variable is an error
naming it; `$$` is a literal `$` (see monitor.config.envvars).
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.config import advice, envvars
from monitor.config.checkcache import UrlCheckCache, check_key
from monitor.config.messages import pydantic_message
from monitor.config.schema import (
    CHANNEL_FORMS,
    UNION_TAGS,
    Channel,
    Dedup,
    Defaults,
    Feed,
    Fetch,
    GroupSpec,
    Http,
    NearSpec,
    Notify,
    RawConfig,
    TermSpec,
    Topic,
)
from monitor.config.yamlguard import check_yaml
from monitor.config.yamlload import load_yaml
from monitor.errors import ConfigError
from monitor.matching.rules import Term as MatchTerm
from monitor.matching.rules import TopicRule, term_problem
from monitor.models import CHANNEL_KINDS
from monitor.redact import MIN_LITERAL, redact

# The config API: what other modules import from here (schema types re-exported with the loaders).
__all__ = [
    "Channel",
    "Config",
    "Dedup",
    "Defaults",
    "Feed",
    "Fetch",
    "GroupSpec",
    "Http",
    "NearSpec",
    "Notify",
    "RawConfig",
    "TermSpec",
    "Topic",
    "load_config",
    "parse_config",
    "rule_from_dict",
]


@dataclass(frozen=True)
class Config:
    """The validated configuration the daemon runs on."""

    path: Path
    storage_url: str
    defaults: Defaults
    notify: Notify
    feeds: tuple[Feed, ...]
    channels: Mapping[str, tuple[str, ...]]
    topics: tuple[Topic, ...]
    secrets: tuple[str, ...]  # values that came from ${VAR}: redacted from logs
    fetch: Fetch = Fetch()
    channel_options: Mapping[str, Channel] = None  # type: ignore[assignment]  # every channel, extended form
    warnings: tuple[str, ...] = ()  # `config.yaml:LINE: path: text` for what works but is probably wrong
    # channels whose `${VAR}` are not set, loaded with need_secrets=False (read-only verbs): cannot send
    unresolved_channels: tuple[str, ...] = ()
    unset_variables: tuple[tuple[str, str], ...] = ()  # (channel, variable) of unresolved_channels

    def channel(self, name: str) -> Channel:
        """A channel's options (defaults for the short form)."""
        opts = (self.channel_options or {}).get(name)
        return opts if opts is not None else Channel(urls=list(self.channels.get(name, ())))

    dedup: Dedup = Dedup()
    http: Http = Http()
    reload_on_change: bool = False
    cluster: bool = False  # PostgreSQL only: nodes share feeds and channels through procrastinate jobs
    cluster_stall_after: float = 30.0  # seconds without a node's heartbeat before its jobs are rerun

    def interval(self, feed: Feed) -> float:
        """How often the scheduler looks at the feed (an adaptive feed's shortest interval)."""
        return feed.min_interval or self.max_interval(feed)

    def max_interval(self, feed: Feed) -> float:
        """The configured interval: an adaptive feed's longest."""
        return feed.interval or self.defaults.interval

    def full_fetch_after(self, feed: Feed) -> float:
        """How old the feed's last full answer may get before a poll drops its validators."""
        return feed.full_fetch_after or self.defaults.full_fetch_after

    def outlet(self, feed: Feed) -> str:
        return feed.outlet or feed.name

    def rules(self) -> list[TopicRule]:
        return [t.rule() for t in self.topics]


def _path_str(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _lines(text: str) -> dict[tuple[Any, ...], int]:
    """Map each YAML path to its 1-based line, for error messages."""
    lines: dict[tuple[Any, ...], int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                lines[path + (k.value,)] = k.start_mark.line + 1
                walk(v, path + (k.value,))
                lines[path + (k.value,)] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, path + (i,))

    if root is not None:
        walk(root, ())
    return lines


_CHANNEL_OPTIONS = ("rate", "delivery", "digest_at", "timezone", "quiet_hours")


def _is_url_path(path: tuple[Any, ...]) -> bool:
    """A channel URL (short form, list item or `urls`), or notify.telegram_api_url."""
    if path[:2] == ("notify", "telegram_api_url"):
        return True
    return path[:1] == ("channels",) and (len(path) == 2 or path[2] not in _CHANNEL_OPTIONS)


def _expand_env(
    data: Any,
    env: Mapping[str, str],
    path: tuple[Any, ...],
    problems: list[tuple[tuple[Any, ...], str]],
    secrets: list[str],
    unresolved: dict[str, list[str]] | None = None,
    root: Mapping[str, Any] | None = None,
) -> Any:
    """`${VAR}` filled in where config allows it (monitor.config.envvars: `$$` is a literal
    `$`; elsewhere a `${` is a problem); in channel URLs by position (see advice.expand_url).
    With `unresolved`, a channel's unset variables are collected there instead of being problems."""
    root = root if root is not None else (data if isinstance(data, dict) else {})
    if isinstance(data, dict):
        return {k: _expand_env(v, env, path + (k,), problems, secrets, unresolved, root) for k, v in data.items()}
    if isinstance(data, list):
        return [_expand_env(v, env, path + (i,), problems, secrets, unresolved, root) for i, v in enumerate(data)]
    opted_in_feed_url = path[:1] == ("feeds",) and path[-1:] == ("url",) and envvars.expands(path, root)
    # a PostgreSQL storage URL too: its ${PGPASSWORD} with `@ / # %` stays one password (README's cluster set-up)
    server_storage = path == ("storage",) and isinstance(data, str) and data.startswith("postgresql")
    if isinstance(data, str) and (_is_url_path(path) or opted_in_feed_url or server_storage):  # encoded by position
        missing: list[str] = []
        url_problems: list[str] = []
        value = advice.expand_url(data, env, url_problems, missing, secrets, apprise=not server_storage)
        problems.extend((path, p) for p in url_problems)
        if unresolved is not None and path[:1] == ("channels",) and missing:
            unresolved.setdefault(str(path[1]), []).extend(missing)
        else:
            problems.extend((path, f"environment variable {name} is not set") for name in missing)
        return value
    if isinstance(data, str) and "$" in data:
        return envvars.substitute(data, env, path, envvars.expands(path, root), problems, secrets)
    return data


def _unbraced(data: Any, path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str, bool]]:
    """`$NAME` written without braces in URLs and storage: (path, text, is_error)."""
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in _unbraced(v, path + (k,))]
    if isinstance(data, list):
        return [x for i, v in enumerate(data) for x in _unbraced(v, path + (i,))]
    if not isinstance(data, str) or not (
        _is_url_path(path) or path == ("storage",) or (path[:1] == ("feeds",) and path[-1:] == ("url",))
    ):
        return []
    return [
        (path, f"`${name}` is not expanded: write `${{{name}}}`", path[:1] == ("channels",))
        for name in advice.unbraced_vars(data)
    ]


def _masked(message: str, secrets: list[str]) -> str:
    """A problem message with every `${VAR}` value in it masked (as logs and output mask them),
    short ones too where they stand quoted (`got '…'`)."""
    message = redact(message, secrets)
    for value in secrets:
        if value and len(value) < MIN_LITERAL:
            message = message.replace(repr(value), "'***'")
    return message


def _resolve_storage(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file's folder."""
    m = re.match(r"^(sqlite(?:\+\w+)?):///(?!/)(.+)$", url)
    if m and m.group(2) != ":memory:":
        return f"{m.group(1)}:///{(base / m.group(2)).resolve()}"
    return url


def load_config(
    path: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    *,
    need_secrets: bool = True,
    url_checks: UrlCheckCache | None = None,
) -> Config:
    """Read and validate config.yaml; raise ConfigError listing every problem (see parse_config)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from None
    return parse_config(decode_config(data, path), path=path, env=env, need_secrets=need_secrets, url_checks=url_checks)


def decode_config(data: bytes, path: Path) -> str:
    """The config file's text: UTF-8 (a UTF-8 BOM is dropped). Anything else (UTF-16/32, as
    some editors save, or a legacy code page such as windows-1256) raises ConfigError saying
    where the first bad byte is and to save the file as UTF-8."""
    boms = [
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ]
    for bom, name in boms:
        if data.startswith(bom):
            raise ConfigError(f"{path}: the file is {name}; save it as UTF-8")
    if len(data) >= 4 and (data[1::2].count(0) > len(data) // 4 or data[0::2].count(0) > len(data) // 4):
        raise ConfigError(f"{path}: the file looks like UTF-16 (no BOM); save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        guess = ""
        try:
            if any("\u0600" <= ch <= "\u06ff" for ch in data.decode("cp1256")):
                guess = " (it looks like windows-1256)"
        except UnicodeDecodeError:
            pass
        raise ConfigError(
            f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} at line {line}, column {column}){guess}; save it as UTF-8"
        ) from None


def parse_config(
    text: str,
    *,
    path: Path = Path("config.yaml"),
    env: Mapping[str, str] | None = None,
    need_secrets: bool = True,
    url_checks: UrlCheckCache | None = None,
) -> Config:
    """Validate YAML text as a config (see load_config).

    `need_secrets=False` (verbs that never send) loads a config whose channels use unset
    `${VAR}`: those channels are listed in `Config.unresolved_channels` instead of failing.
    `url_checks`: apprise's verdicts on channel URLs kept from an earlier load of this same
    text (monitor/config/checkcache.py); a URL it does not know is checked and told to it."""
    env = os.environ if env is None else env
    data = load_yaml(text, path, check_yaml(text, str(path)))  # one scan of the text for both
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a YAML mapping with feeds, channels and topics")
    lines: dict[tuple[Any, ...], int] | None = None  # read only when a message needs a line (a third parse)
    problems: list[tuple[tuple[Any, ...], str]] = []
    warnings: list[tuple[tuple[Any, ...], str]] = []
    secrets: list[str] = []
    for loc, msg, is_error in _unbraced(data, ()):
        (problems if is_error else warnings).append((loc, msg))
    unresolved: dict[str, list[str]] | None = None if need_secrets else {}
    data = _expand_env(data, env, (), problems, secrets, unresolved)
    raw: RawConfig | None = None
    try:
        raw = RawConfig.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p not in UNION_TAGS)
            if loc[:1] == ("channels",) and len(loc) > 2 and loc[2] in CHANNEL_FORMS:
                loc = loc[:2] + loc[3:]  # drop the form tag from the path
            problems.append((loc, pydantic_message(err, loc)))
    if raw is not None:
        unset = {  # a channel with an unset ${VAR} is not also given to apprise's check (issue 18)
            str(loc[1])
            for loc, msg in problems
            if loc[:1] == ("channels",) and len(loc) > 1 and msg.startswith("environment variable")
        }
        check = _url_checker(url_checks, text, _resolve_storage(raw.storage, path.parent))
        found, advised = _semantic_problems(raw, skip_channels=set(unresolved or ()) | unset, check=check)
        problems += found
        warnings += advised

    def fmt(loc: tuple[Any, ...], msg: str) -> str:
        nonlocal lines
        if lines is None:
            lines = _lines(text)
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
        where = f"{path}:{line}: " if line else f"{path}: "
        return f"{where}{_path_str(loc)}: {msg}"

    if problems:  # secrets are masked here: the CLI registers them only once the config loads
        raise ConfigError([_masked(fmt(loc, msg), secrets) for loc, msg in problems])
    assert raw is not None
    options = {name: c if isinstance(c, Channel) else Channel(urls=c) for name, c in raw.channels.items()}
    channels = {name: tuple([c.urls] if isinstance(c.urls, str) else c.urls) for name, c in options.items()}
    return Config(
        path=path,
        storage_url=_resolve_storage(raw.storage, path.parent),
        defaults=raw.defaults,
        notify=raw.notify,
        feeds=tuple(raw.feeds),
        channels=channels,
        topics=tuple(raw.topics),
        dedup=raw.dedup,
        secrets=tuple(sorted(set(secrets), key=len, reverse=True)),
        fetch=raw.fetch,
        channel_options=options,
        http=raw.http,
        reload_on_change=raw.reload_on_change,
        cluster=raw.cluster,
        cluster_stall_after=raw.cluster_stall_after,
        warnings=tuple(fmt(loc, msg) for loc, msg in warnings),
        unresolved_channels=tuple(sorted(unresolved or ())),
        unset_variables=tuple((c, v) for c in sorted(unresolved or ()) for v in dict.fromkeys((unresolved or {})[c])),
    )


def _url_checker(cache: UrlCheckCache | None, text: str, storage_url: str) -> Callable[[str], advice.UrlCheck]:
    """advice.check_channel_url, through `cache` when there is one (verdicts without an error
    are kept; one with an error is asked of apprise every time)."""
    if cache is None:
        return advice.check_channel_url

    def check(url: str) -> advice.UrlCheck:
        key = check_key(url, text)
        kept = cache.get(storage_url, key)
        if kept is not None:
            return advice.UrlCheck(None, kept)
        got = advice.check_channel_url(url)
        if got.error is None:
            cache.put(storage_url, key, got.warnings)
        return got

    return check


def _semantic_problems(
    raw: RawConfig,
    skip_channels: set[str] = frozenset(),  # type: ignore[assignment]
    check: Callable[[str], advice.UrlCheck] | None = None,
) -> tuple[list[tuple[tuple[Any, ...], str]], list[tuple[tuple[Any, ...], str]]]:
    """Checks across keys: unique names, known channels, terms with words, URLs that
    cannot work (errors); and advice (warnings, see monitor.config.advice). `check`: how a
    channel URL is checked (default advice.check_channel_url)."""
    check = check or advice.check_channel_url
    problems: list[tuple[tuple[Any, ...], str]] = []
    warnings: list[tuple[tuple[Any, ...], str]] = advice.feed_warnings(raw)
    storage = advice.storage_problem(raw.storage)
    if storage:
        problems.append((("storage",), storage))
    elif raw.cluster and not raw.storage.startswith("postgresql"):
        problems.append((("cluster",), advice.CLUSTER_NEEDS_POSTGRESQL))
    seen: dict[str, int] = {}
    for i, feed in enumerate(raw.feeds):
        if feed.min_interval and feed.min_interval >= (feed.interval or raw.defaults.interval):
            problems.append((("feeds", i, "min_interval"), "must be shorter than the feed's interval"))
        if feed.name in seen:
            problems.append(
                (("feeds", i, "name"), f"duplicate feed name {feed.name!r} (also feeds[{seen[feed.name]}])")
            )
        seen.setdefault(feed.name, i)
    for name, spec in raw.channels.items():
        urls = spec.urls if isinstance(spec, Channel) else spec
        base = ("channels", name, "urls") if isinstance(spec, Channel) else ("channels", name)
        for j, url in enumerate([urls] if isinstance(urls, str) else urls):
            loc = base if isinstance(urls, str) else base + (j,)
            if not re.match(r"^[a-z][a-z0-9+]*://", url):
                examples = " or ".join(spec.example for spec in CHANNEL_KINDS.values())
                problems.append((loc, f"must be an apprise URL like {examples}"))
            elif name not in skip_channels:
                verdict = check(url)
                if verdict.error:
                    problems.append((loc, verdict.error))
                warnings += [(loc, w) for w in verdict.warnings]
        if not urls:
            problems.append((base, "must not be empty"))
        if isinstance(spec, Channel):
            warnings += advice.preview_warnings(spec, ("channels", name))
    ops = raw.notify.ops_channel
    if ops is not None and ops not in raw.channels:
        problems.append((("notify", "ops_channel"), _unknown("channel", ops, list(raw.channels))))
    ids: dict[str, int] = {}
    for i, topic in enumerate(raw.topics):
        if topic.id in ids:
            problems.append((("topics", i, "id"), f"duplicate topic id {topic.id!r} (also topics[{ids[topic.id]}])"))
        ids.setdefault(topic.id, i)
        for j, channel in enumerate(topic.notify):
            if channel not in raw.channels:
                problems.append((("topics", i, "notify", j), _unknown("channel", channel, list(raw.channels))))
        problems += _topic_term_problems(topic, ("topics", i))
        problems += advice.topic_conflicts(topic, ("topics", i))
        warnings += advice.topic_warnings(topic, ("topics", i))
        feeds = [f.name for f in raw.feeds]
        for j, name in enumerate(topic.feeds):
            if name not in feeds:
                problems.append((("topics", i, "feeds", j), _unknown("feed", name, feeds)))
    return problems, warnings


def _unknown(kind: str, name: str, known: list[str]) -> str:
    hint = advice.did_you_mean(name, known)
    listed = ", ".join(known) or "none defined"
    return f"unknown {kind} {name!r}" + (f" (did you mean {hint!r}?)" if hint else "") + f" ({kind}s: {listed})"


def _topic_term_problems(topic: Topic, loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """Terms the matcher refuses (no words, regular-expression syntax)."""
    groups: list[tuple[tuple[Any, ...], list[str | TermSpec] | GroupSpec]] = [
        (loc + ("all", g), terms) for g, terms in enumerate(topic.all)
    ]
    groups += [(loc + ("any",), topic.any), (loc + ("none",), topic.none)]
    groups += [
        (loc + ("near", n, "groups", g), terms)
        for n, near in enumerate(topic.near)
        for g, terms in enumerate(near.groups)
    ]
    problems: list[tuple[tuple[Any, ...], str]] = []
    for gloc, group in groups:
        if isinstance(group, GroupSpec):
            gloc, terms = gloc + ("terms",), group.terms
        else:
            terms = group
        for k, term in enumerate(terms):
            spec = term if isinstance(term, str) else MatchTerm(term.term, term.weight, term.field, term.name)
            problem = term_problem(spec)
            if problem:
                problems.append((gloc + (k,), problem))
    return problems


def rule_from_dict(data: Mapping[str, Any]) -> TopicRule:
    """A topic written as in config.yaml (`notify` optional here) -> TopicRule.

    Raises ConfigError listing the problems (for backtest files and benches).
    """
    try:
        topic = Topic.model_validate({"notify": ["-"], **data})
    except ValidationError as exc:
        where = [_path_str(tuple(p for p in e["loc"] if p not in UNION_TAGS)) for e in exc.errors()]
        raise ConfigError(
            [f"topic {data.get('id', '?')}: {w}: {e['msg']}" for w, e in zip(where, exc.errors())]
        ) from None
    problems = [msg for _, msg in _topic_term_problems(topic, ())]
    if problems:
        raise ConfigError([f"topic {topic.id}: {m}" for m in problems])
    return topic.rule()
