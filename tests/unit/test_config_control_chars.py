"""A character YAML refuses (a C0/C1 control, DEL, a non-character) anywhere in config.yaml is
a config error naming its line and column, never PyYAML's ReaderError escaping as a traceback
(`monitor check` is the unit's ExecStartPre: exit 1 there makes systemd restart it in a loop).
The subprocess run of `check` and `once` is tests/acceptance/test_config_control_chars.py."""

from __future__ import annotations

import pytest

from monitor.config.load import parse_config
from monitor.errors import ConfigError

GOOD = (
    "storage: sqlite:///m.db\n"
    "feeds:\n  - name: Desk\n    url: http://127.0.0.1:9/feed.xml\n"
    "channels:\n  cap: json://127.0.0.1:9/alerts\n"
    "topics:\n  - id: t\n    name: T  # the topic\n    any: [x]\n    notify: [cap]\n"
)

# (variant, old text, spoiled text)
CASES = [
    # ContinuumIO/anaconda-issues#12408: config.yaml full of NUL bytes after a crash
    ("NUL in a key", "feeds:", "fe\x00eds:"),
    ("NUL bytes filling the end", "[cap]\n", "[cap]\n" + "\x00" * 40),
    # crtomirmajer/secode#6: a terminal's bracketed-paste escape pasted into a value
    ("ESC in a value", "name: Desk", "name: \x1b[200~Desk"),
    # ESMValGroup/ESMValTool#892: U+0080 from a pasted hyphen
    ("U+0080 in a value", "name: Desk", "name: Desk \x80 x"),
    # DataUSA/datausa-site#137: U+0096 (cp1252's en dash read as latin-1)
    ("U+0096 in a topic name", "name: T ", "name: T \x96 x "),
    ("DEL in a comment", "# the topic", "# the \x7ftopic"),
    ("BEL in a quoted URL", "url: http://127.0.0.1:9/feed.xml", "url: 'http://127.0.0.1:9/\x07feed.xml'"),
    ("U+FFFE non-character", "any: [x]", "any: [x\ufffe]"),
]


@pytest.mark.parametrize(("variant", "old", "new"), CASES, ids=[c[0] for c in CASES])
def test_an_unprintable_character_is_a_config_error_at_its_line(variant, old, new):
    text = GOOD.replace(old, new, 1)
    assert text != GOOD, variant
    at = next(i for i, c in enumerate(text) if not c.isprintable() and c != "\n")  # the bad character
    where = f"{text.count(chr(10), 0, at) + 1}:{at - text.rfind(chr(10), 0, at)}"
    with pytest.raises(ConfigError) as info:
        parse_config(text, env={})
    message = str(info.value)
    assert f"config.yaml:{where}: a control character U+" in message, f"{variant}: {message}"
    assert f"U+{ord(text[at]):04X}" in message


def test_the_good_config_loads():
    assert [f.name for f in parse_config(GOOD, env={}).feeds] == ["Desk"]
