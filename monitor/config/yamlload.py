"""YAML text -> Python values, refusing what PyYAML silently accepts or words badly.

`load_yaml(text, path)` is `yaml.safe_load` plus: a key repeated in one mapping
is an error naming both lines (PyYAML keeps the last and drops the first
block silently); `<<: *base` followed by an override stays legal. A syntax
error becomes `config.yaml:LINE:COL: what; how to fix it` instead of PyYAML's
multi-line text. Errors: `ConfigError` listing every duplicate at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError

_MERGE = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that records repeated mapping keys (line of the repeat, key, first line)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, Any, int]] = []

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


def load_yaml(text: str, path: Path | str = "config.yaml") -> Any:
    """Parse YAML text (safe types only); raise ConfigError with `PATH:LINE[:COL]: ...` lines."""
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
