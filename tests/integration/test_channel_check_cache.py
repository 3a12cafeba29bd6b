"""apprise's verdicts on channel URLs kept in the store (issue 16: an idle `monitor once` imported
apprise only to check URLs it had checked in every earlier pass).

A config is loaded twice as `once` loads it (load_config with a ChannelChecks, then save); the
table says what changed in between and how many URLs the second load must hand to apprise.
Every second load gives the same warnings as the first. Verdicts depend on the apprise
installed (apprise-api#102: a mailtos:// URL read differently from 0.8.0 on; Der-Henning/tgtg#680:
apprise 1.9.7 calls a long URL "Unparseable" that 1.9.6 read; ChuckMac/ADRFinder#12: an older
apprise did not know `mailto`), and on the config (lasso-js/lasso#23, Eddio0141/UniTAS#279,
libero/reviewer#581: a cache kept across a config change): each rebuilt below as a change of
fingerprint, text or ${VAR} value.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.config import advice, checkcache
from monitor.config.load import load_config
from monitor.errors import ConfigError
from monitor.storage import Store
from monitor.storage.checkcache import ChannelChecks

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # apprise's documented token shape, not a real bot
CONFIG = """storage: {storage}
feeds:
  - name: f
    url: https://example.org/f.xml
channels:
  hook: json://127.0.0.1:9/${{HOOK}}
  tg: tgram://{token}/
topics:
  - id: t
    name: T
    any: [السعودية]
    notify: [hook, tg]
"""


def _config(tmp: Path, storage: str, extra: str = "") -> Path:
    path = tmp / "config.yaml"
    path.write_text(CONFIG.format(storage=storage, token=TOKEN) + extra, encoding="utf-8")
    return path


def _load(path: Path, env: dict[str, str], checks: ChannelChecks) -> tuple[str, ...]:
    """The config's warnings, loaded as cli.common.load does for `once` and `run`."""
    try:
        config = load_config(path, env=env, url_checks=checks)
    finally:
        checks.close()
    checks.save()
    return config.warnings


def _store(kind: str, tmp: Path) -> str:
    db = tmp / "m.db"
    if kind == "head":
        Store(f"sqlite:///{db}").close()
    elif kind == "behind":  # a store of a version before 0016: no channel_checks table
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            conn.execute("INSERT INTO alembic_version VALUES ('0015')")
    elif kind == "postgresql":
        return "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    return "sqlite:///m.db"


# (variant, store, what changes before the second load, URLs apprise checks on the second load)
VARIANTS = [
    ("the same config and store again", "head", None, 0),
    ("a comment added to config.yaml", "head", "comment", 2),
    ("a ${VAR} value changed (one URL)", "head", "env", 1),
    ("another apprise or checking code (fingerprint)", "head", "fingerprint", 2),
    ("MONITOR_STORAGE names another store", "head", "override", 2),
    ("no store file yet (none is created)", "none", None, 2),
    ("a store behind 0016 (no table; nothing written)", "behind", None, 2),
    ("a PostgreSQL store (not kept)", "postgresql", None, 2),
]


@pytest.mark.parametrize(("variant", "store", "change", "second_calls"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_a_verdict_is_reused_only_for_the_same_url_config_and_checker(
    tmp_path, monkeypatch, variant, store, change, second_calls
):
    calls: list[str] = []
    real = advice.check_channel_url
    monkeypatch.setattr(advice, "check_channel_url", lambda url: calls.append(url) or real(url))
    path = _config(tmp_path, _store(store, tmp_path))
    env = {"HOOK": "sink"}
    first = _load(path, env, ChannelChecks())
    assert len(calls) == 2 and any("no chat id" in w for w in first), (variant, calls, first)
    override = None
    if change == "comment":
        path.write_text(path.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    elif change == "env":
        env = {"HOOK": "other"}
    elif change == "fingerprint":
        monkeypatch.setattr(checkcache, "checker_fingerprint", lambda: b"apprise 9.9")
    elif change == "override":
        other = tmp_path / "other"
        other.mkdir()
        Store(f"sqlite:///{other / 'm.db'}").close()
        override = f"sqlite:///{other / 'm.db'}"
    calls.clear()
    second = _load(path, env, ChannelChecks(override))
    assert len(calls) == second_calls, (variant, calls)
    assert second == first, variant
    if store == "none":
        assert not (tmp_path / "m.db").exists(), "loading a config created the store"
    if store == "behind":
        with sqlite3.connect(tmp_path / "m.db") as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"alembic_version"}, tables


# A URL apprise refuses: never kept, so the config fails on every load, with apprise's reason.
REFUSED = [
    ("a scheme apprise does not know", "nosuchscheme://x", "apprise does not know"),
    ("a Telegram token apprise refuses", "tgram://short/12345", "apprise cannot read"),
]


@pytest.mark.parametrize(("variant", "url", "says"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_url_is_checked_every_time(tmp_path, monkeypatch, variant, url, says):
    calls: list[str] = []
    real = advice.check_channel_url
    monkeypatch.setattr(advice, "check_channel_url", lambda u: calls.append(u) or real(u))
    path = _config(tmp_path, _store("head", tmp_path))
    text = path.read_text(encoding="utf-8").replace("channels:\n", f"channels:\n  bad: {url}\n")
    path.write_text(text, encoding="utf-8")
    for _ in range(2):
        checks = ChannelChecks()
        with pytest.raises(ConfigError) as err:
            load_config(path, env={"HOOK": "sink"}, url_checks=checks)
        checks.save()
        assert says in str(err.value), (variant, str(err.value))
    assert calls.count(url) == 2, (variant, calls)
    with sqlite3.connect(tmp_path / "m.db") as conn:
        # the two other channels' verdicts only
        assert conn.execute("SELECT count(*) FROM channel_checks").fetchone() == (2,)
