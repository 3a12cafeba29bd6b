"""Stories, the pure parts: config checks of alert mode and dedup values, the also-reported line.
The store and the pipeline are in tests/integration/test_stories.py.
"""

from __future__ import annotations

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.delivery.render import L_ALSO
from tests.support.story_helpers import (
    seed_articles,
)


def test_config_checks_alert_mode_and_dedup_values():
    from monitor.errors import ConfigError

    base = {
        "feeds": [{"name": "a", "url": "https://ex.com/rss"}],
        "channels": {"tg": "tgram://1:x/2"},
        "topics": [{"id": "t", "name": "T", "any": ["روسيا"], "notify": ["tg"], "alert": "per-thread"}],
        "dedup": {"window": "soon", "copy_jaccard": 1.5},
    }
    with pytest.raises(ConfigError) as err:
        parse_config(yaml.safe_dump(base, allow_unicode=True), env={})
    text = "\n".join(err.value.problems)
    assert "topics[0].alert" in text and "dedup.window" in text and "dedup.copy_jaccard" in text
    base["topics"][0]["alert"] = "per-story"
    base["dedup"] = {"window": "2d", "story_window": "12h"}
    config = parse_config(yaml.safe_dump(base, allow_unicode=True), env={})
    assert config.topics[0].alert == "per-story"
    assert config.dedup.window == 2 * 86400 and config.dedup.story_window == 12 * 3600


@pytest.mark.parametrize("kind", ["telegram", "email", "other"])
def test_also_reported_line_is_clean_and_escaped(kind):
    from monitor.delivery.render import render_alert
    from monitor.models import Article, Match, TermHit

    art = seed_articles()[0]
    article = Article(url="https://ex.com/a", url_key="ex.com/a", feed="f", title=art["title"], body="")
    match = Match("t", "T", (TermHit("بوتين", "بوتين", "title", 0, 0, 5),), "بوتين")
    hostile = "Evil <b>\u202e\nOutlet"
    plain = render_alert(article, match, outlet="A", channel_kind=kind)
    r = render_alert(article, match, outlet="A", channel_kind=kind, also=["الشرق الأوسط", hostile])
    assert L_ALSO not in plain.html + plain.text
    assert f"{L_ALSO}: الشرق الأوسط، Evil <b> Outlet" in r.text
    assert "Evil &lt;b&gt; Outlet" in r.html and "\u202e" not in r.html + r.text
