"""The real daemon: a Telegram API that hangs does not hold back email, and SIGTERM
still stops it cleanly with nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from tests.support.site import TOKEN, write_config
from tests.support.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


class _HangingTelegram(FakeTelegram):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.waiting = 0

    def _respond(self, request):
        if request.url_path.endswith("/sendMessage") and not self.release.is_set():
            self.waiting += 1
            self.release.wait(120)
        return super()._respond(request)


def _delivered(tg, urls) -> set[str]:
    return {u for m in list(tg.messages) for u in urls if u in m.visible_text}


def _until(condition, what: str, limit: float = 120.0) -> None:
    """Poll `condition` (a safety bound only; no speed is asserted)."""
    end = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_hanging_telegram_does_not_delay_email(tmp_path, site, smtp_server):
    web, expected = site
    with _HangingTelegram() as tg:
        config = write_config(tmp_path, web, smtp_server, tg)
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["feeds"] = data["feeds"][:2]
        data["channels"]["telegram"] = {"urls": data["channels"]["telegram"], "rate": "100/s"}
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        env.update(TG_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
        with (tmp_path / "daemon.log").open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "run"],
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=log,
            )
        try:
            _until(lambda: len(smtp_server.messages) == len(expected), "the emails")
            assert tg.waiting >= 1 and not tg.messages  # Telegram is still stuck on its first send
            tg.release.set()
            _until(lambda: _delivered(tg, expected) == set(expected), "the Telegram messages")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(120)
        assert code == 0, (tmp_path / "daemon.log").read_text()[-3000:]
        assert len(smtp_server.messages) == len(expected)
        # a send that outlived apprise's read timeout was retried: at most that one twice
        assert _delivered(tg, expected) == set(expected) and len(tg.messages) <= len(expected) + 1
        logtext = (tmp_path / "daemon.log").read_text()
        assert "sender stopped channel=telegram" in logtext and TOKEN not in logtext
