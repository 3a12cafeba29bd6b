"""`${VAR}` in config.yaml: where it is expanded, how to write a literal `$`, and escaping outside text.

Syntax (as in Docker Compose): `${VAR}` is the variable's value, `${VAR:-default}`
the default when it is unset or empty, and `$$` is one literal `$` in every string
of the file (so `$${VAR}` is the text `${VAR}`, never expanded).

Expansion is an explicit choice by place: `${VAR}` is read only in `storage`,
`channels`, `notify` and `http`, and in a feed's `url` when that feed sets
`url_env: true`. Anywhere else a `${` is a problem naming the place, so a
config line pasted from outside (an OPML file, a web page) can never send a
secret to whoever wrote it. Text the program writes into config.yaml from
outside goes through `escape()` first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# `$$` (a literal `$`), or ${VAR} / ${VAR:-default}, or a `${` that is neither (an error where it is read)
_TOKEN = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}$]*))?\}|\$\{")
EXPANDED_IN = ("storage", "channels", "notify", "http")  # top-level keys whose strings may hold ${VAR}
FEED_OPT_IN = "url_env"  # feeds[i].url_env: true lets that feed's url hold ${VAR}

Problems = list[tuple[tuple[Any, ...], str]]


def escape(text: str) -> str:
    """`text` written so the loader reads it back unchanged and never expands it: every `$` doubled."""
    return text.replace("$", "$$")


def escape_entry(entry: Mapping[str, str]) -> dict[str, str]:
    """A mapping of strings (an imported feed entry) with every value passed through `escape`."""
    return {key: escape(value) for key, value in entry.items()}


def unescape(text: str) -> str:
    """A string as the loader reads it where nothing is expanded: every `$$` -> `$`."""
    return text.replace("$$", "$")


def expands(path: tuple[Any, ...], root: Mapping[str, Any]) -> bool:
    """Whether `${VAR}` is read at this YAML path of the parsed config `root`."""
    if not path:
        return False
    if path[0] in EXPANDED_IN:
        return True
    if path[0] == "feeds" and len(path) == 3 and path[2] == "url":
        feeds = root.get("feeds")
        feed = feeds[path[1]] if isinstance(feeds, list) and isinstance(path[1], int) else None
        return isinstance(feed, dict) and feed.get(FEED_OPT_IN) is True
    return False


def _where_allowed() -> str:
    return ", ".join(EXPANDED_IN) + f" and a feed's url with `{FEED_OPT_IN}: true`"


def substitute(
    text: str,
    env: Mapping[str, str],
    path: tuple[Any, ...],
    allowed: bool,
    problems: Problems,
    secrets: list[str],
) -> str:
    """`text` with `$$` -> `$` and, when `allowed`, `${VAR}` expanded; problems and the values
    substituted are appended to `problems` and `secrets`."""

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "$$":
            return "$"
        if not allowed:
            problems.append(
                (
                    path,
                    f"`{token}` is not expanded here (only in {_where_allowed()}); write $${{ for a literal ${{",
                )
            )
            return token
        name, default = m.group(1), m.group(2)
        if name is None:
            problems.append((path, "`${` must start ${VAR} or ${VAR:-default}; write $${ for a literal ${"))
            return token
        value = env.get(name, "")
        if value != "":
            secrets.append(value)  # every length: redact masks short ones where they stand in a URL
            return value
        if default is not None:
            return default
        problems.append((path, f"environment variable {name} is not set"))
        return ""

    return _TOKEN.sub(sub, text)


def expand(
    data: Any,
    env: Mapping[str, str],
    problems: Problems,
    secrets: list[str],
) -> Any:
    """`data` (the parsed YAML) with `$$` -> `$` everywhere and `${VAR}` expanded where allowed.

    Problems (a `${` where expansion is off, an unset variable) are appended as
    (YAML path, message); every value substituted is appended to `secrets`.
    """
    root = data if isinstance(data, dict) else {}

    def walk(node: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, path + (k,)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, path + (i,)) for i, v in enumerate(node)]
        if isinstance(node, str) and "$" in node:
            return substitute(node, env, path, expands(path, root), problems, secrets)
        return node

    return walk(data, ())
