"""Refuse YAML that costs unbounded work before anything walks it (pure).

`yaml.safe_load` of an alias bomb is cheap (aliases are shared references), but
every later walk of the tree (environment expansion, validation) visits each
alias's whole value again: 605 bytes can expand to 10^9 values. Deep nesting
makes the recursive walkers raise RecursionError. `check_yaml` reads the parser's
event stream once (iteratively, linear in the text) and refuses both with a
ConfigError, so the daemon's reload keeps its old config. It returns the events it read (a
text up to KEEP_EVENTS_BYTES that parsed whole), so `yamlload.load_yaml` builds the values
from them instead of scanning the text a second time (pure-Python PyYAML: ≈ 10-20 ms for a
30-feed config, issue 16).
"""

from __future__ import annotations

import yaml

from monitor.errors import ConfigError

MAX_CONFIG_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 100_000  # values after expanding every alias (real configs: a few thousand)
KEEP_EVENTS_BYTES = 256 * 1024  # a longer text is scanned again by the loader (its events not kept)


def check_yaml(text: str, what: str = "config.yaml") -> list[yaml.Event] | None:
    """Raise ConfigError when `text` is over 1 MiB, nests deeper than MAX_DEPTH, or its
    aliases expand to more than MAX_VALUES values. YAML syntax errors are left to the
    loader (which reports them with line numbers). Returns the parser's events when the
    text parsed whole and is at most KEEP_EVENTS_BYTES long, else None."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{what}: larger than {MAX_CONFIG_BYTES} bytes")
    kept: list[yaml.Event] | None = [] if len(text) <= KEEP_EVENTS_BYTES else None
    sizes: dict[str, int] = {}  # anchor -> values its node expands to
    anchors: list[str | None] = [None]  # per open collection (the first is the document)
    counts: list[int] = [0]  # values so far per open collection; their sum is the running total
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if kept is not None:
                kept.append(event)
            n = 0
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                anchors.append(event.anchor)
                counts.append(1)
                if len(counts) - 1 > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else 0
                    raise ConfigError(f"{what}:{line}: nested deeper than {MAX_DEPTH} levels")
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                anchor, n = anchors.pop(), counts.pop()
                if anchor:
                    sizes[anchor] = n
            elif isinstance(event, yaml.ScalarEvent):
                n = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                n = sizes.get(event.anchor or "", 1)
            else:
                continue
            counts[-1] += n
            if sum(counts) > MAX_VALUES:  # at most MAX_DEPTH + 1 terms
                raise ConfigError(f"{what}: aliases expand to more than {MAX_VALUES} values (an alias bomb?)")
    except yaml.YAMLError:
        return None
    return kept
