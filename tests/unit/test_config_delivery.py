"""Delivery config: the short channel forms stay valid, the extended form is checked."""

from __future__ import annotations

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.errors import ConfigError

BASE = {
    "feeds": [{"name": "F", "url": "http://example.com/feed"}],
    "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": ["tg"]}],
}


def _parse(channels, notify=None, topic=None):
    data = dict(BASE, channels=channels)
    if notify:
        data["notify"] = notify
    if topic:
        data["topics"] = [dict(BASE["topics"][0], **topic)]
    return parse_config(yaml.safe_dump(data, allow_unicode=True), env={})


def test_short_and_extended_forms():
    c = _parse(
        {
            "tg": "tgram://1:x/2",
            "mail": ["mailto://a@example.com", "mailto://d@example.com"],
            "digest": {
                "urls": "tgram://1:x/3",
                "delivery": "daily",
                "digest_at": "07:30",
                "timezone": "Asia/Riyadh",
                "quiet_hours": "23:00-07:00",
                "rate": ["1/s", "20/m"],
            },
        },
        notify={"ops_channel": "tg", "timezone": "Africa/Cairo"},
        topic={"urgent": True, "delivery": "hourly"},
    )
    assert c.channels == {
        "tg": ("tgram://1:x/2",),
        "mail": ("mailto://a@example.com", "mailto://d@example.com"),
        "digest": ("tgram://1:x/3",),
    }
    assert c.channel("tg").delivery == "immediate" and c.channel("digest").delivery == "daily"
    assert c.topics[0].urgent and c.topics[0].delivery == "hourly"


@pytest.mark.parametrize(
    "channels, notify, needle",
    [
        ({"tg": {"urls": "tgram://1:x/2", "rate": "fast"}}, None, "channels.tg.rate: must be a rate like 1/s"),
        ({"tg": {"urls": "tgram://1:x/2", "timezone": "Mars/Base"}}, None, "unknown time zone"),
        ({"tg": {"urls": "tgram://1:x/2", "quiet_hours": "23:00"}}, None, "must be a window like 23:00-07:00"),
        ({"tg": {"urls": "tgram://1:x/2", "digest_at": "25:00"}}, None, "must be a time like 07:30"),
        ({"tg": {"urls": "tgram://1:x/2", "delivery": "weekly"}}, None, "channels.tg.delivery"),
        ({"tg": {"urls": [], "delivery": "daily"}}, None, "channels.tg.urls: must not be empty"),
        ({"tg": {"urls": "not a url"}}, None, "channels.tg.urls: must be an apprise URL"),
        ({"tg": {"urls": "tgram://1:x/2", "colour": "red"}}, None, "channels.tg.colour: unknown key"),
        ({"tg": "tgram://1:x/2"}, {"ops_channel": "pager"}, "notify.ops_channel: unknown channel 'pager'"),
    ],
)
def test_extended_form_errors_name_the_key(channels, notify, needle):
    with pytest.raises(ConfigError) as err:
        _parse(channels, notify)
    assert needle in str(err.value), err.value.problems
