"""config.yaml -> a validated, frozen Config (the daemon and `monitor check` share this).

Every problem is reported with its YAML path and line (`topics[0].all[1]:
must not be empty`), all at once. `${VAR}` (or `${VAR:-default}`) in any
string is taken from the environment; a missing variable is an error naming it.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .match import TopicRule, term_key

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def parse_duration(value: Any) -> float:
    """'90s', '10m', '2h', '1d' or a number of seconds -> seconds (> 0)."""
    if isinstance(value, bool):
        raise ValueError("must be a duration like 90s, 10m, 2h")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"must be a duration like 90s, 10m, 2h (got {value!r})")
        seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"must be positive (got {value!r})")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Defaults(_Strict):
    interval: float = 600.0
    jitter: float = 0.1          # fraction of the interval added at random to each run
    timeout: float = 30.0        # per HTTP request
    user_agent: str = "monitor/0.1 (+https://example.invalid/monitor; Arabic news monitor)"
    retention: float = 30 * 86400.0   # how long article text is kept

    _dur = field_validator("interval", "timeout", "retention", mode="before")(
        lambda v: parse_duration(v))

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
    outlet: str | None = None    # shown in alerts; defaults to the feed name

    _dur = field_validator("interval", mode="before")(
        lambda v: None if v is None else parse_duration(v))

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"must be an http:// or https:// URL (got {v!r})")
        return v


Term = Annotated[str, Field(min_length=1)]
Terms = list[Term]


class Topic(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1)
    all: list[Annotated[Terms, Field(min_length=1)]] = []
    any: Terms = []
    none: Terms = []
    notify: list[str] = Field(min_length=1)

    @field_validator("all", mode="before")
    @classmethod
    def _groups(cls, v: Any) -> Any:
        # A bare string inside `all` is a one-term group: `all: [روسيا, [...]]`.
        if isinstance(v, list):
            return [[g] if isinstance(g, str) else g for g in v]
        return v

    @model_validator(mode="after")
    def _has_rule(self) -> "Topic":
        if not self.all and not self.any:
            raise ValueError("needs at least one of `all` or `any`")
        return self


class Notify(_Strict):
    telegram_api_url: str | None = None   # a self-hosted Bot API server, e.g. http://127.0.0.1:8081


class Http(_Strict):
    listen: str | None = None   # e.g. 127.0.0.1:9464 serves /healthz and /metrics; unset: no listener

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str | None) -> str | None:
        if v is not None:
            from .health import parse_listen
            parse_listen(v)
        return v


class RawConfig(_Strict):
    storage: str = "sqlite:///monitor.db"
    defaults: Defaults = Defaults()
    notify: Notify = Notify()
    feeds: list[Feed] = Field(min_length=1)
    channels: dict[str, str | list[str]] = {}
    topics: list[Topic] = Field(min_length=1)
    http: Http = Http()
    reload_on_change: bool = False   # `monitor run` reloads when this file changes (as on SIGHUP)


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
    secrets: tuple[str, ...]     # values that came from ${VAR}: redacted from logs
    http: Http = Http()
    reload_on_change: bool = False

    def interval(self, feed: Feed) -> float:
        return feed.interval or self.defaults.interval

    def outlet(self, feed: Feed) -> str:
        return feed.outlet or feed.name

    def rules(self) -> list[TopicRule]:
        return [TopicRule(t.id, t.name, tuple(tuple(g) for g in t.all), tuple(t.any), tuple(t.none))
                for t in self.topics]


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


def _expand_env(data: Any, env: Mapping[str, str], path: tuple[Any, ...],
                problems: list[tuple[tuple[Any, ...], str]], secrets: list[str]) -> Any:
    if isinstance(data, dict):
        return {k: _expand_env(v, env, path + (k,), problems, secrets) for k, v in data.items()}
    if isinstance(data, list):
        return [_expand_env(v, env, path + (i,), problems, secrets) for i, v in enumerate(data)]
    if isinstance(data, str) and "${" in data:
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env and env[name] != "":
                if len(env[name]) >= 4:
                    secrets.append(env[name])
                return env[name]
            if default is not None:
                return default
            problems.append((path, f"environment variable {name} is not set"))
            return ""
        return _ENV.sub(sub, data)
    return data


def _resolve_storage(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file's folder."""
    m = re.match(r"^(sqlite(?:\+\w+)?):///(?!/)(.+)$", url)
    if m and m.group(2) != ":memory:":
        return f"{m.group(1)}:///{(base / m.group(2)).resolve()}"
    return url


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Read and validate config.yaml; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from None
    return parse_config(text, path=path, env=env)


def parse_config(text: str, *, path: Path = Path("config.yaml"),
                 env: Mapping[str, str] | None = None) -> Config:
    """Validate YAML text as a config (see load_config)."""
    env = os.environ if env is None else env
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a YAML mapping with feeds, channels and topics")
    lines = _lines(text)
    problems: list[tuple[tuple[Any, ...], str]] = []
    secrets: list[str] = []
    data = _expand_env(data, env, (), problems, secrets)
    raw: RawConfig | None = None
    try:
        raw = RawConfig.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "is required"
            elif err["type"] in ("too_short", "list_too_short") and "input" in err:
                msg = "must not be empty"
            elif "input" in err and not isinstance(err["input"], (dict, list)) and "(got" not in msg:
                msg += f" (got {err['input']!r})"
            problems.append((loc, msg))
    if raw is not None:
        problems += _semantic_problems(raw)
    if problems:
        def fmt(loc: tuple[Any, ...], msg: str) -> str:
            line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
            where = f"{path}:{line}: " if line else f"{path}: "
            return f"{where}{_path_str(loc)}: {msg}"
        raise ConfigError([fmt(loc, msg) for loc, msg in problems])
    assert raw is not None
    channels = {name: tuple([u] if isinstance(u, str) else u) for name, u in raw.channels.items()}
    return Config(path=path, storage_url=_resolve_storage(raw.storage, path.parent),
                  defaults=raw.defaults, notify=raw.notify, feeds=tuple(raw.feeds),
                  channels=channels, topics=tuple(raw.topics),
                  secrets=tuple(sorted(set(secrets), key=len, reverse=True)), http=raw.http,
                  reload_on_change=raw.reload_on_change)


def _semantic_problems(raw: RawConfig) -> list[tuple[tuple[Any, ...], str]]:
    """Checks across keys: unique names, known channels, terms with words."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    seen: dict[str, int] = {}
    for i, feed in enumerate(raw.feeds):
        if feed.name in seen:
            problems.append((("feeds", i, "name"), f"duplicate feed name {feed.name!r} (also feeds[{seen[feed.name]}])"))
        seen.setdefault(feed.name, i)
    for name, urls in raw.channels.items():
        for j, url in enumerate([urls] if isinstance(urls, str) else urls):
            loc = ("channels", name) if isinstance(urls, str) else ("channels", name, j)
            if not re.match(r"^[a-z][a-z0-9+]*://", url):
                problems.append((loc, "must be an apprise URL like tgram://TOKEN/CHAT or mailtos://..."))
        if not urls:
            problems.append((("channels", name), "must not be empty"))
    ids: dict[str, int] = {}
    for i, topic in enumerate(raw.topics):
        if topic.id in ids:
            problems.append((("topics", i, "id"), f"duplicate topic id {topic.id!r} (also topics[{ids[topic.id]}])"))
        ids.setdefault(topic.id, i)
        for j, channel in enumerate(topic.notify):
            if channel not in raw.channels:
                known = ", ".join(raw.channels) or "none defined"
                problems.append((("topics", i, "notify", j), f"unknown channel {channel!r} (channels: {known})"))
        groups: list[tuple[tuple[Any, ...], list[str]]] = [
            (("topics", i, "all", g), terms) for g, terms in enumerate(topic.all)]
        groups += [(("topics", i, "any"), topic.any), (("topics", i, "none"), topic.none)]
        for loc, terms in groups:
            for k, term in enumerate(terms):
                if not term_key(term):
                    problems.append((loc + (k,), f"term has no letters or digits (got {term!r})"))
    return problems
