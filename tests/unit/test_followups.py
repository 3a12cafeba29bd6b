"""Story follow-ups, the pure rules: which Telegram URLs go direct, and that follow-ups need
per-story alerts. The sends themselves are in tests/integration/test_followups.py.
"""

from __future__ import annotations

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.delivery.telegram import target
from tests.support.story_helpers import TOKEN


def test_only_plain_telegram_urls_go_direct():
    assert target(f"tgram://{TOKEN}/987654") == (TOKEN, "987654")
    assert target(f"tgram://bot{TOKEN}/-100123") == (TOKEN, "-100123")
    assert target(f"tgram://{TOKEN}/1/2") is None  # several chats: apprise
    assert target(f"tgram://{TOKEN}/1?silent=yes") is None  # options: apprise
    assert target("mailto://a@example.com") is None


def test_follow_ups_need_per_story():
    from monitor.errors import ConfigError

    base = {
        "feeds": [{"name": "f", "url": "https://example.com/rss"}],
        "channels": {"t": "tgram://1:2/3"},
        "topics": [{"id": "x", "name": "X", "any": ["a"], "notify": ["t"], "follow_ups": True}],
    }
    with pytest.raises(ConfigError, match="per-story"):
        parse_config(yaml.safe_dump(base), env={})
    base["topics"][0]["alert"] = "per-story"
    base["dedup"] = {"follow_up_gap": "30m"}
    config = parse_config(yaml.safe_dump(base), env={})
    assert config.topics[0].follow_ups and config.dedup.follow_up_gap == 1800
