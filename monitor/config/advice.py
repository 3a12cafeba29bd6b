"""Advice on a config that loads but may not do what its author meant (pure).

`did_you_mean(word, choices)` is the one "did you mean …?" rule (names and keys).
`expand_url` fills `${VAR}` into a channel URL, percent-encoding values in the
userinfo and query. `storage_problem` and `check_channel_url` (apprise's own
parser, offline) find URLs that cannot work. `feed_warnings` and `topic_warnings`
list `(yaml_path, text)` for configs that work but are probably wrong: a feed URL
under two names, polling more than once a minute, a group written without
brackets, a term of `any` in most articles, `~` on a common word;
`topic_conflicts` the errors (a term in both `all` and `none`).
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config.channelurls import plugin_for
from monitor.matching.rules import as_term, term_key
from monitor.text.normalize import is_arabic

Problem = tuple[tuple[Any, ...], str]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to `word` (case-insensitive), or None when none is close."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


# ---- ${VAR} and $VAR -----------------------------------------------------------------------

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# what expand_url replaces: `$$` (one literal `$`, as everywhere in config.yaml) or a ${VAR}
_URL_TOKEN = re.compile(r"\$\$|" + _ENV_REF.pattern)
_UNBRACED = re.compile(r"(?<![$\w\\])\$([A-Za-z_][A-Za-z0-9_]*)")


def unbraced_vars(text: str) -> list[str]:
    """Names written `$NAME` (not `${NAME}`) in `text`: they are not expanded (pure)."""
    return _UNBRACED.findall(_ENV_REF.sub("", text))


def url_part_at(template: str, pos: int) -> str:
    """Which part of a URL template the character at `pos` is in: scheme, userinfo, host,
    path or query. Read from the template's literal text with every `${VAR}` blanked, so
    a variable's value can never move a boundary (pure)."""
    lit = _ENV_REF.sub(lambda m: "\0" * len(m.group(0)), template)
    start = lit.find("://")
    if start < 0 or pos < start:
        return "scheme"
    auth = start + 3
    ends = [i for i in (lit.find(c, auth) for c in "/?#") if i >= 0]
    end = min(ends) if ends else len(lit)
    at = lit.rfind("@", auth, end)
    if pos < end:
        return "userinfo" if at >= 0 and pos < at else "host"
    query = lit.find("?", auth)
    return "query" if 0 <= query < pos else "path"


# Query keys apprise's plugins read as lists (decoded once, by apprise's parse_qsd); the other
# values it unquotes a second time (`NotifyBase.unquote(results["qsd"]["pass"])`, apprise 1.x),
# so a literal `%` there is encoded twice (caronc/apprise#32: a mailto password holding "%").
_QUERY_DECODED_ONCE = frozenset({"to", "cc", "bcc"})


def query_key(template: str, pos: int) -> str:
    """The query parameter name (lowercase) whose value is at `pos` of a URL template."""
    start = max(template.rfind("?", 0, pos), template.rfind("&", 0, pos)) + 1
    return template[start:pos].partition("=")[0].strip().lower()


def _literal_hash_in_userinfo(template: str) -> str | None:
    """The problem of a `#` written literally before the `@` of a URL's user:password part
    (`mailtos://${U}:Zq#9xK@host`): the URL would end at the `#` (the rest a fragment)."""
    start = template.find("://")
    if start < 0:
        return None
    authority = re.match(r"[^/?]*", template[start + 3 :])
    text = authority.group(0) if authority else ""
    hash_at = text.find("#")
    if hash_at >= 0 and "@" in text[hash_at:]:
        return (
            "a `#` written in the user:password part ends the URL there: write it as %23, "
            "or put the password in a ${VAR} (encoded for you)"
        )
    return None


def expand_url(
    template: str,
    env: Mapping[str, str],
    problems: list[str],
    missing: list[str],
    secrets: list[str],
    *,
    apprise: bool = True,
) -> str:
    """A channel URL template with `${VAR}` filled in by where each sits: percent-encoded
    in the userinfo and the query (a password with `@ / # ? %` stays one password; a `%` in a
    query value apprise decodes twice is encoded twice; `apprise` False: a URL decoded once,
    such as a PostgreSQL `storage:`), as
    written in the host and path, where a value holding whitespace or `/ ? # @` is refused
    (`problems` names the variable, never its value). Unset variables without a default go
    to `missing`; every value, raw and encoded, goes to `secrets` (monitor.redact masks
    short ones where they stand). `$$` is one literal `$` (pure)."""

    hashed = _literal_hash_in_userinfo(template)
    if hashed:
        problems.append(hashed)

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(2)
        if env.get(name):
            value = env[name]
            secrets.append(value)  # every length: monitor.redact masks short ones where they stand
        elif default is not None:
            value = default
        else:
            missing.append(name)
            return ""
        part = url_part_at(template, m.start())
        if part in ("userinfo", "query"):
            encoded = urllib.parse.quote(value, safe="")
            if apprise and part == "query" and query_key(template, m.start()) not in _QUERY_DECODED_ONCE:
                encoded = encoded.replace("%25", "%2525")  # apprise unquotes these values twice
            if encoded != value and env.get(name):
                secrets.append(encoded)
            return encoded
        if part == "host" and not hashed and re.search(r"[\s/?#@]", value):
            problems.append(f"${{{name}}} is in the URL's host part and holds a space or one of / ? # @")
        if part == "path" and re.search(r"[\s?#]", value):  # `-100#12`: apprise would read chat -100
            problems.append(f"${{{name}}} is in the URL's path and holds a space or one of ? #")
        return value

    return _URL_TOKEN.sub(sub, template)


# ---- storage and channel URLs -----------------------------------------------------------


CLUSTER_NEEDS_POSTGRESQL = (
    "cluster: true needs a PostgreSQL store shared by every node "
    "(storage: postgresql+psycopg://USER@HOST:5432/DB); SQLite is one node's file"
)


def storage_problem(url: str) -> str | None:
    """Why `storage:` is not a database URL SQLAlchemy can open, or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    hint = "write sqlite:///monitor.db (relative to this file) or postgresql+psycopg://USER@HOST:5432/DB"
    if "://" not in url:
        return f"not a database URL (got {url!r}); {hint}"
    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        return f"not a database URL SQLAlchemy knows (scheme {url.split('://', 1)[0]!r}); {hint}"
    return None


@dataclass(frozen=True)
class UrlCheck:
    """What apprise's own parser made of a channel URL: an error, and warnings."""

    error: str | None = None
    warnings: tuple[str, ...] = ()


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())


_apprise_lock = threading.Lock()


def check_channel_url(url: str) -> UrlCheck:
    """Parse one channel URL with apprise, offline (instantiating makes no request).

    apprise's own messages can hold pieces of a password, so they are never passed on:
    each is reworded here, naming the kind of problem only."""
    import apprise

    scheme = url.split("://", 1)[0].lower()
    capture = _Capture()
    logger = logging.getLogger("apprise")
    with _apprise_lock:
        level, propagate, handlers = logger.level, logger.propagate, logger.handlers[:]
        logger.handlers = [capture]  # apprise's words may quote a secret: not forwarded to our logs
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        try:
            asset = apprise.AppriseAsset(async_mode=False)
            plugin = plugin_for(url, asset)  # only this scheme's plugin module when it can
            if plugin is None:
                plugin = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=True)
        finally:
            logger.handlers = handlers
            logger.setLevel(level)
            logger.propagate = propagate
    said = " ".join(capture.messages).lower()
    if plugin is None:
        from apprise.manager_plugins import NotificationManager

        if scheme not in NotificationManager():  # type: ignore[no-untyped-call]  # apprise: no annotations there
            return UrlCheck(f"apprise does not know `{scheme}://` (see the apprise wiki for your service's URL)")
        return UrlCheck(
            f"apprise cannot read this `{scheme}://` URL ({_reason(said)}); a value with @ / # ? in it "
            "belongs in a ${VAR} (encoded for you) or percent-encoded (%40 %2F %23 %3F)"
        )
    warnings: list[str] = []
    if "dropped invalid" in said or "invalid" in said:
        warnings.append(f"apprise dropped part of this `{scheme}://` URL ({_reason(said)})")
    if scheme in ("mailto", "mailtos") and not getattr(plugin, "host", "x"):
        return UrlCheck("the mail server (host) is empty: mailtos://USER:PASSWORD@HOST:PORT?from=...&to=...")
    if scheme == "tgram" and not getattr(plugin, "targets", ["x"]):
        warnings.append("no chat id: write tgram://TOKEN/CHAT_ID (apprise would guess the chat over the network)")
    return UrlCheck(None, tuple(warnings))


def _reason(said: str) -> str:
    """apprise's complaint as a kind, never its text (which may quote a secret)."""
    for needle, reason in (
        ("chat", "an invalid Telegram chat id"),
        ("to email", "an invalid `to` address"),
        ("from", "an invalid `from` address"),
        ("cc", "an invalid `cc` address"),
        ("token", "an invalid token"),
        ("unparseable", "it cannot be parsed"),
        ("could not load", "it cannot be parsed"),
    ):
        if needle in said:
            return reason
    return "see `monitor test-alert`"


# ---- topics and feeds --------------------------------------------------------------------

COMMON_SHARE = 0.2  # a word in more than this share of news articles is "common"


def common_word(term: str) -> bool:
    """A one-word Arabic term in most articles: a function word of two letters (في، من)
    or a word in more than COMMON_SHARE of the SaudiNewsNet articles (text/df.txt)."""
    key = term_key(term)
    if len(key) != 1 or not is_arabic(key[0]):
        return False
    from monitor.text.rarity import document_frequency

    n, table = document_frequency()
    return len(key[0]) <= 2 or table.get(key[0], 0) / n > COMMON_SHARE


# Endings only an ordinary word takes in news text: the possessive pronouns (زيارته، زيارتها،
# زيارتهم، زيارتنا) and the sound feminine plural (زيارات). The corpus writes no name with
# them (إيران، بوتين، سروج، عدن: none in text/df.txt), while most ordinary nouns show one.
# The ي of "my" is left out: it is also the nisba (يمني، ايراني), and so is ه after ي (حوثيه).
_POSSESSIVE = ("ه", "ها", "هم", "نا")


def ordinary_forms(term: str) -> dict[str, int]:
    """{form: articles} of the corpus's word-rarity table (text/df.txt) that show a one-word
    Arabic term to be an ordinary word, not a name: the word with a possessive ending or its
    plural in ات. {} for names, phrases and Latin words."""
    key = term_key(term)
    if len(key) != 1 or not is_arabic(key[0]) or len(key[0]) < 3:
        return {}
    from monitor.dedup.stories import base_term
    from monitor.text.rarity import document_frequency

    word = base_term(key[0])
    _, table = document_frequency()
    stem = word[:-1] + "ت" if word.endswith("ه") else word
    endings = () if word.endswith("ي") else _POSSESSIVE
    forms = [stem + e for e in endings] + [(word[:-1] if word.endswith("ه") else word) + "ات"]
    return {f: table[f] for f in forms if table.get(f, 0)}


def _terms(topic: Any, loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str, Any, str]]:
    """(path, group kind, term, text) for every term of a topic."""
    from monitor.config.schema import GroupSpec

    groups: list[tuple[tuple[Any, ...], str, Any]] = [(loc + ("all", g), "all", t) for g, t in enumerate(topic.all)]
    groups += [(loc + ("any",), "any", topic.any), (loc + ("none",), "none", topic.none)]
    groups += [
        (loc + ("near", n, "groups", g), "near", t)
        for n, near in enumerate(topic.near)
        for g, t in enumerate(near.groups)
    ]
    out = []
    for gloc, kind, terms in groups:
        if isinstance(terms, GroupSpec):
            gloc, terms = gloc + ("terms",), terms.terms
        for k, term in enumerate(terms):
            text = term if isinstance(term, str) else ("~" if term.name else "") + term.term
            out.append((gloc + (k,), kind, term, text))
    return out


def topic_conflicts(topic: Any, loc: tuple[Any, ...]) -> list[Problem]:
    """Errors: a term in both a required group and `none` (the topic can never match)."""
    vetoes = {term_key(as_term(t).text): t for _, kind, _, t in _terms(topic, loc) if kind == "none"}
    problems = []
    for path, kind, _, text in _terms(topic, loc):
        key = term_key(as_term(text).text)
        if kind == "all" and key in vetoes:
            problems.append((path, f"`{text}` is also in `none`: every article with it is vetoed; remove one"))
    anys = [(path, text) for path, kind, _, text in _terms(topic, loc) if kind == "any"]
    if anys and all(term_key(as_term(text).text) in vetoes for _, text in anys):  # any: [X] none: [X]
        path, text = anys[0]
        problems.append(
            (path, f"every `any` term (`{text}`…) is also in `none`: the topic can never match; remove one")
        )
    return problems


def topic_warnings(topic: Any, loc: tuple[Any, ...]) -> list[Problem]:
    """Warnings: a group written without brackets, common words in `any`, `~` on a common or ordinary word."""
    out = []
    for path, kind, _, text in _terms(topic, loc):
        term = as_term(text)
        if "," in term.text or "،" in term.text:
            alternatives = ", ".join(p.strip() for p in re.split("[,،]", term.text) if p.strip())
            out.append(
                (
                    path,
                    f"`{term.text}` is one phrase (with the comma); for alternatives write a group: [{alternatives}]",
                )
            )
        elif term.name and common_word(term.text):
            out.append(
                (
                    path,
                    f"`~{term.text}` marks a common word as a name: its spelling variants merge different "
                    "words; use ~ for names only",
                )
            )
        elif term.name and (forms := ordinary_forms(term.text)):
            shown = "، ".join(sorted(forms, key=lambda f: -forms[f])[:2])
            out.append(
                (
                    path,
                    f"`~{term.text}` marks an ordinary word as a name (news also writes it {shown}, endings no "
                    "name takes): its spelling variants merge different words; use ~ for names only",
                )
            )
        elif kind == "any" and common_word(term.text):
            out.append((path, f"`{term.text}` is in most articles: as an `any` term it matches almost everything"))
    return out


def preview_warnings(spec: Any, loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """Notes on a channel's ``link_preview`` (`spec`: the extended form of a channel): a
    Telegram option, so ignored for email and other services; ``above`` needs a
    ``tgram://TOKEN/CHAT[/CHAT...]`` URL without options (one direct Bot API call per
    chat); apprise, which sends to other tgram:// URLs, can only show it below the text."""
    choice = getattr(spec, "link_preview", "off")
    if choice == "off":
        return []
    urls = [spec.urls] if isinstance(spec.urls, str) else list(spec.urls)
    schemes = {u.split("://", 1)[0].lower() for u in urls}
    here = loc + ("link_preview",)
    if schemes != {"tgram"}:
        return [(here, "link previews are a Telegram option: ignored for this channel's other URLs (e.g. email)")]
    if choice == "above":
        # a URL naming several chats is one target per chat (delivery/targets.py): each is plain
        plain = [u for u in urls if "?" not in u and [c for c in u.split("://", 1)[1].split("/")[1:] if c]]
        if len(plain) < len(urls):
            return [(here, "above needs tgram://TOKEN/CHAT[/CHAT...] (no options); other tgram URLs show it below")]
    return []


MIN_INTERVAL = 60.0  # seconds: polling an outlet more often gets a client blocked


def feed_warnings(raw: Any) -> list[Problem]:
    """Warnings: one feed URL under two names; an interval under a minute."""
    from monitor.dedup.keys import normalize_url

    out: list[Problem] = []
    seen: dict[str, tuple[int, str]] = {}
    for i, feed in enumerate(raw.feeds):
        key = normalize_url(feed.url)
        if key in seen:
            j, name = seen[key]
            out.append((("feeds", i, "url"), f"same URL as feeds[{j}] ({name}): its items would be fetched twice"))
        seen.setdefault(key, (i, feed.name))
        for field in ("interval", "min_interval"):
            value = getattr(feed, field)
            if value is not None and value < MIN_INTERVAL:
                out.append((("feeds", i, field), _too_often(value)))
    if raw.defaults.interval < MIN_INTERVAL:
        out.append((("defaults", "interval"), _too_often(raw.defaults.interval)))
    return out


def _too_often(seconds: float) -> str:
    return f"every {seconds:g}s polls an outlet more than once a minute, which gets you blocked; use 1m or more"
