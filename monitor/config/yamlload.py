"""YAML text -> Python values, refusing what PyYAML silently accepts or words badly.

`load_yaml(text, path)` is `yaml.safe_load` plus: a key repeated in one mapping
is an error naming both lines (PyYAML keeps the last and drops the first
block silently); `<<: *base` followed by an override stays legal. A syntax
error becomes `config.yaml:LINE:COL: what; how to fix it` instead of PyYAML's
multi-line text. Errors: `ConfigError` listing every duplicate at once.
Given the parser's events of the same text (`yamlguard.check_yaml` returns them), the values
are composed from those events with PyYAML's own composer, constructor and resolver instead of
scanning the text again; any error there and the text is read again, so every message is the
one the text gives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError

_MERGE = "tag:yaml.org,2002:merge"


class _Duplicates(yaml.constructor.SafeConstructor):
    """The safe constructor, recording repeated mapping keys (line of the repeat, key, first line)."""

    duplicates: list[tuple[int, Any, int]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:  # before flatten_mapping: merged keys may be overridden
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # the base class raises its own error for an unhashable key
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.duplicates.append((line, key, seen[key]))
                else:
                    seen[key] = line
        return super().construct_mapping(node, deep)


class _UniqueKeyLoader(_Duplicates, yaml.SafeLoader):
    """SafeLoader that records repeated mapping keys."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self.duplicates = []


class _EventLoader(_Duplicates, yaml.composer.Composer, yaml.resolver.Resolver):
    """A SafeLoader whose parser is a list of events already read (PyYAML's parser interface)."""

    def __init__(self, events: Iterable[yaml.Event]) -> None:
        self._events = deque(events)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.duplicates = []

    def check_event(self, *choices: type[yaml.Event]) -> bool:
        if not self._events:
            return False
        return not choices or isinstance(self._events[0], choices)

    def peek_event(self) -> yaml.Event:
        return self._events[0]

    def get_event(self) -> yaml.Event:
        return self._events.popleft()

    def dispose(self) -> None:
        self._events.clear()


def _from_events(events: Iterable[yaml.Event]) -> tuple[bool, Any]:
    """(clean, data) composed from `events`; not clean: the caller reads the text again."""
    loader = _EventLoader(events)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError:
        return False, None
    finally:
        loader.dispose()
    return not loader.duplicates, data


def _syntax_hint(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or ""
    context_line = exc.context_mark.line + 1 if exc.context_mark is not None else None
    if "'\\t'" in problem:
        return "a tab character; indent with spaces, not tabs"
    if "expected <block end>" in problem or "mapping values are not allowed" in problem:
        since = f" against line {context_line}" if context_line else ""
        return (
            f"the indentation here does not fit{since}: keys of one mapping and items of one list "
            "must start at the same column (and a value with ': ' in it needs quotes)"
        )
    if "found undefined alias" in problem:
        return "an alias (*name) used before its anchor (&name) is defined"
    if "could not find expected ':'" in problem:
        return "a key without ':' (or an unclosed quote above)"
    if "found unexpected end of stream" in problem or "while scanning a quoted scalar" in (exc.context or ""):
        return "a quote is opened and never closed"
    return f"not valid YAML: {problem or exc.context or 'syntax error'}"


def _unprintable(exc: yaml.reader.ReaderError, text: str, path: Path | str) -> ConfigError:
    """A character YAML refuses anywhere in the text (NUL bytes left by a power loss, a
    terminal escape or a C1 control pasted in; YAML 1.1 §5.1 allows only printable
    characters): `PATH:LINE:COL: ...` naming the character, never PyYAML's traceback."""
    before = text[: max(exc.position, 0)]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return ConfigError(
        f"{path}:{line}:{column}: a control character U+{exc.character:04X} YAML does not allow "
        "(left by a crash or pasted from a terminal or a web page); delete it and save again"
    )


def load_yaml(text: str, path: Path | str = "config.yaml", events: Iterable[yaml.Event] | None = None) -> Any:
    """Parse YAML text (safe types only); raise ConfigError with `PATH:LINE[:COL]: ...` lines.
    `events`: the parser's events of this same text, when already read (see the module doc)."""
    if events is not None:
        clean, data = _from_events(events)
        if clean:
            return data
    try:
        loader = _UniqueKeyLoader(text)  # the reader refuses unprintable characters here already
    except yaml.reader.ReaderError as exc:
        raise _unprintable(exc, text, path) from None
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: {_syntax_hint(exc)}") from None
    except yaml.reader.ReaderError as exc:
        raise _unprintable(exc, text, path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise ConfigError(
            [
                f"{path}:{line}: {key}: duplicate key (first at line {first}); "
                "YAML would keep only this one and silently drop the first. Merge them into one"
                for line, key, first in loader.duplicates
            ]
        )
    return data
