"""config.yaml is scanned once: `check_yaml` (the alias-bomb and depth guard) hands its parser
events to `load_yaml`, which composes the values from them with PyYAML's own composer,
constructor and resolver (issue 16: pure-Python PyYAML scanned the text twice per load).
Every row: the same values as reading the text, or the same ConfigError text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.config.yamlguard import KEEP_EVENTS_BYTES, check_yaml
from monitor.config.yamlload import load_yaml
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

FILES = [
    ROOT / "config.yaml",
    ROOT / "tests/fixtures/labelled/topics.yaml",
    ROOT / "tests/fixtures/labelled/topics-names.yaml",
]

TEXTS = [
    ("empty", ""),
    ("comment only", "# nothing\n"),
    ("arabic keys and values", "topics:\n  - name: السعودية\n    any: [الرياض, جدة]\n"),
    ("merge key, then an override", "base: &b {interval: 10m, jitter: 0.2}\nfeed:\n  <<: *b\n  interval: 5m\n"),
    ("scalars the resolver types", "a: yes\nb: 2015-07-21\nc: 1e3\nd: ~\ne: 0o17\nf: '10'\ng: !!str 10\n"),
    ("block scalars", "a: |\n  one\n  two\nb: >-\n  folded\n  text\n"),
    ("duplicate key", "feeds: []\ntopics: []\nfeeds: [x]\n"),
    ("duplicate key after a merge is legal", "b: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n"),
    ("undefined alias (a composer error)", "a: *nowhere\n"),
    ("two documents", "a: 1\n---\nb: 2\n"),
    ("a syntax error", "a: [1, 2\n"),
    ("a tab", "a:\n\tb: 1\n"),
    ("a NUL byte", "a: b\x00\n"),
    ("unhashable key", "? [1, 2]\n: x\n"),
]


def _outcome(text: str, events: object = None) -> tuple[str, object]:
    try:
        return "ok", load_yaml(text, "config.yaml", events)  # type: ignore[arg-type]
    except ConfigError as exc:
        return "error", str(exc)
    except Exception as exc:  # whatever the text path raises, the events path must raise too
        return "raised", f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize(
    "text",
    [f.read_text(encoding="utf-8") for f in FILES] + [t for _, t in TEXTS],
    ids=[f.name for f in FILES] + [i for i, _ in TEXTS],
)
def test_values_from_the_guards_events_equal_the_texts(text):
    try:
        events = check_yaml(text)
    except ConfigError:
        return  # refused before loading, as before
    try:
        parses = bool(list(yaml.parse(text, Loader=yaml.SafeLoader)))
    except yaml.YAMLError:
        parses = False
    assert (events is not None) is parses  # the events path is the one taken whenever the text parses
    assert _outcome(text, events) == _outcome(text)


def test_a_long_text_is_scanned_again_not_kept():
    text = "topics:\n" + "".join(f"  - name: t{i}\n    any: [w{i}]\n" for i in range(KEEP_EVENTS_BYTES // 20))
    assert len(text) > KEEP_EVENTS_BYTES
    assert check_yaml(text) is None
    assert check_yaml("a: 1\n") is not None
