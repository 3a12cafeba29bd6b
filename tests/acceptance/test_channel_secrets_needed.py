"""Issue 18 (red team 18): a verb needs the `${VAR}` secrets of the channels it uses only:
`test-alert NAME` those of NAME, `once --dry-run` none (it says so once)."""

from __future__ import annotations

import pytest

from tests.acceptance.test_once_rate_limit import edit
from tests.support.site import run_monitor, write_config

SHIPPED_EMAIL = (
    "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@${SMTP_HOST}:${SMTP_PORT:-587}?from=${ALERT_FROM}&to=${ALERT_TO}"
)


def test_test_alert_on_telegram_does_not_need_the_email_secrets(tmp_path, site, smtp_server, fake_telegram_unpatched):
    """The quick start's flow: fill in the Telegram values of monitor.env, try `monitor
    test-alert telegram`. It is refused (exit 2) for the unset SMTP_*/ALERT_* variables of the
    `email` channel, which it does not use."""
    web, _ = site
    config = write_config(tmp_path, web, smtp_server, fake_telegram_unpatched)

    def shipped_email(data):
        data["channels"]["email"] = SHIPPED_EMAIL

    edit(config, shipped_email)
    result = run_monitor(config, "test-alert", "telegram")
    assert result.returncode == 0, result.stderr
    assert len(fake_telegram_unpatched.messages) == 1


def test_once_dry_run_runs_before_the_secrets_are_filled_in(tmp_path, site, smtp_server, fake_telegram_unpatched):
    """`once --dry-run` sends nothing (like the read-only verbs, which run without the channels'
    secrets and say so once), yet without monitor.env it is refused as a config error (exit 2)."""
    web, _ = site
    config = write_config(tmp_path, web, smtp_server, fake_telegram_unpatched)

    def unset_secrets(data):
        data["channels"]["telegram"] = "tgram://${TELEGRAM_BOT_TOKEN}/${TELEGRAM_CHAT_ID}"

    edit(config, unset_secrets)
    result = run_monitor(config, "once", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would send" in result.stdout


@pytest.mark.parametrize(
    ("url", "variable"),
    [
        ("tgram://${TELEGRAM_BOT_TOKEN}/987654", "TELEGRAM_BOT_TOKEN"),
        ("tgram://${TG_TOKEN}/${TELEGRAM_CHAT_ID}", "TELEGRAM_CHAT_ID"),
    ],
)
def test_test_alert_still_needs_the_named_channels_secrets(
    tmp_path, site, smtp_server, fake_telegram_unpatched, url, variable
):
    web, _ = site
    config = write_config(tmp_path, web, smtp_server, fake_telegram_unpatched)

    def unset(data):
        data["channels"]["telegram"] = url
        data["channels"]["email"] = SHIPPED_EMAIL

    edit(config, unset)
    result = run_monitor(config, "test-alert", "telegram")
    assert result.returncode == 2, result.stderr
    assert f"environment variable {variable} is not set" in result.stderr
    assert "SMTP_" not in result.stderr and "Traceback" not in result.stderr
    assert fake_telegram_unpatched.messages == []


def test_once_dry_run_says_once_that_secrets_are_missing(tmp_path, site, smtp_server, fake_telegram_unpatched):
    web, _ = site
    config = write_config(tmp_path, web, smtp_server, fake_telegram_unpatched)
    edit(config, lambda data: data["channels"].update(email=SHIPPED_EMAIL))
    result = run_monitor(config, "once", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("use ${VAR} values that are not set") == 1, result.stderr
    assert "sends nothing" in result.stderr
