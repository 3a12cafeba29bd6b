"""Issue 18 (red team 18): `monitor once` under a slow channel rate limit returns and leaves
the rest queued, Ctrl-C stops it while a limiter waits, and the operator notice of an alert
it marked dead goes out in the same run. The CLI as a subprocess, the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support.site import ROOT, run_monitor, write_config

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def edit(config: Path, change) -> Path:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    change(data)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def rated(config: Path, rate: list[str]) -> Path:
    def slow(data):
        data["channels"]["telegram"] = {"urls": "tgram://${TG_TOKEN}/987654", "rate": rate}

    return edit(config, slow)


# thp/urlwatch#629 ("urlwatch never finish" under cron), rebuilt with a channel rate limit
@pytest.mark.parametrize(
    ("rate", "sent"),
    [
        (["1/h"], 1),  # one slot an hour: one message, the rest wait
        (["2/h"], 2),
        (["1/s", "1/h"], 1),  # a list: the slowest limit decides
    ],
)
def test_once_with_a_slow_rate_limit_returns_and_leaves_the_rest_queued(
    tmp_path, site, smtp_server, fake_telegram_unpatched, rate, sent
):
    web, expected = site
    config = rated(write_config(tmp_path, web, smtp_server, fake_telegram_unpatched), rate)
    result = run_monitor(config, "once")
    assert result.returncode == 0, result.stderr
    assert len(fake_telegram_unpatched.messages) == sent
    assert f"{len(expected) - sent} wait for the rate limit" in result.stdout, result.stdout


def test_once_waits_for_a_short_rate_limit_slot(tmp_path, site, smtp_server, fake_telegram_unpatched):
    """Telegram's own pace (1/s) is waited for: every alert goes out in one `once`."""
    web, expected = site
    config = rated(write_config(tmp_path, web, smtp_server, fake_telegram_unpatched), ["1/s"])
    result = run_monitor(config, "once")
    assert result.returncode == 0, result.stderr
    assert len(fake_telegram_unpatched.messages) == len(expected)
    assert "wait for the rate limit" not in result.stdout


def test_ctrl_c_stops_once_while_it_waits_for_a_rate_limit(tmp_path, site, smtp_server, fake_telegram_unpatched):
    """README: "Ctrl-C stops any verb at once with exit 130", also while `once` waits for a
    rate-limit slot (here 1 per 50 s: within the wait `once` accepts, so it waits)."""
    web, _ = site
    config = rated(write_config(tmp_path, web, smtp_server, fake_telegram_unpatched), ["1/50s"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env.update(TG_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "once"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        while not fake_telegram_unpatched.messages and proc.poll() is None:
            time.sleep(0.2)
        time.sleep(2)  # now in the rate limiter's wait for the second message
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)  # a hang guard, not a speed check
        assert proc.returncode == 130, err
        assert len(fake_telegram_unpatched.messages) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_once_delivers_the_operator_notice_of_an_alert_it_marked_dead(
    tmp_path, web_server, smtp_server, fake_telegram_unpatched
):
    """Chat not found on the first alert: `once` marks it dead and sends the notice to
    `notify.ops_channel` before it ends (not one cron interval later)."""
    from tests.acceptance.test_link_preview import tracked_site
    from tests.support.telegram import TelegramReply

    telegram = fake_telegram_unpatched
    tracked_site(web_server)
    config = write_config(tmp_path, web_server, smtp_server, telegram)

    def channels(data):
        data["channels"] = {"now": "tgram://${TG_TOKEN}/111", "ops": "tgram://${TG_TOKEN}/999"}
        data["notify"]["ops_channel"] = "ops"
        data["topics"] = [{**data["topics"][0], "notify": ["now"]}]

    edit(config, channels)
    telegram.queue(TelegramReply.chat_not_found())
    result = run_monitor(config, "once")
    assert result.returncode == 0, result.stderr
    assert "alert dead" in result.stderr
    assert [str(m.chat_id) for m in telegram.messages if str(m.chat_id) == "999"] == ["999"]
