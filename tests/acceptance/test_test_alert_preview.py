"""Issue 18 (red team 18): `test-alert` on a channel with `link_preview` takes the path its
alerts take (the direct Bot API call with `link_preview_options`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.test_once_rate_limit import edit
from tests.support.site import run_monitor, write_config


def preview_config(tmp_path, web_server, smtp_server, telegram, preview: str) -> Path:
    from tests.acceptance.test_link_preview import tracked_site

    tracked_site(web_server)
    config = write_config(tmp_path, web_server, smtp_server, telegram)

    def channels(data):
        data["channels"] = {
            "now": {"urls": "tgram://${TG_TOKEN}/111", "link_preview": preview},
            "ops": {"urls": "tgram://${TG_TOKEN}/999", "link_preview": preview},
        }
        data["notify"]["ops_channel"] = "ops"
        data["topics"] = [{**data["topics"][0], "notify": ["now"]}]

    return edit(config, channels)


@pytest.mark.parametrize(
    ("preview", "options"),
    [
        ("above", {"is_disabled": False, "show_above_text": True}),
        ("below", {"is_disabled": False, "show_above_text": False}),
    ],
)
def test_test_alert_uses_the_channels_link_preview_choice(
    tmp_path, web_server, smtp_server, fake_telegram_unpatched, preview, options
):
    """README: the choice is "the same on every message it sends"; `test-alert` went through
    apprise with disable_web_page_preview=true."""
    telegram = fake_telegram_unpatched
    config = preview_config(tmp_path, web_server, smtp_server, telegram, preview)
    result = run_monitor(config, "test-alert", "now")
    assert result.returncode == 0, result.stderr
    assert len(telegram.messages) == 1
    assert telegram.messages[0].params.get("link_preview_options") == options, telegram.messages[0].params
