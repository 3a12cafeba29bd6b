"""`monitor outbox holds` and `monitor outbox holds --clear NAME` as a user runs them, on
SQLite and on the PostgreSQL a cluster shares: every hold with the channels it keeps
silent, its kind, end and reason, its target without a secret; a clear drops one."""

from __future__ import annotations

import contextlib
import json

import pytest
import yaml

from monitor.delivery import holds
from monitor.storage import Store
from tests.support.databases import fresh_pg_database
from tests.support.site import run_monitor

TOKEN = "123456:AAHsecretTOKENvalue_-xyz"
CHANNELS = {
    "tg": f"tgram://{TOKEN}/111",
    "tg2": f"tgram://bot{TOKEN}/111?format=html",  # the same chat under a second name
    "mail": "mailtos://desk:mailPASSWORD@example.com?to=night@example.org",
}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_outbox_holds_lists_and_clears(tmp_path, kind):
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_pg_database()) if kind == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
        data = {
            "storage": url,
            "feeds": [{"name": "F", "url": "http://127.0.0.1:9/feed"}],
            "channels": {**CHANNELS, "mail": {"urls": CHANNELS["mail"], "rate": "1/h"}},
            "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": list(CHANNELS)}],
        }
        if kind == "postgresql":
            data["cluster"] = True
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        store = Store(url)
        try:  # what a send job writes: tg's flood wait (the chat's), mail's rate-limit wait
            target = holds.identity(CHANNELS["tg"])
            store.hold_target(target.key, target.label, "tg", 300, "flood wait")
            store.hold_rate("mail", 1800, holds.rate_signature([(1, 3600.0)]))
        finally:
            store.close()

        out = run_monitor(config, "outbox", "holds")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].split() == ["CHANNEL", "KIND", "UNTIL", "(UTC)", "LEFT", "REASON", "TARGET"]
        rate, server = lines[1], lines[2]  # the longest first
        assert server.split()[:3] == ["tg,", "tg2", "server"], out.stdout
        assert "flood wait" in server and "telegram bot 123456 chat 111" in server, out.stdout
        assert rate.split()[:2] == ["mail", "rate"] and "our rate: 1/3600s" in rate, out.stdout
        assert lines[-1].startswith("total: 2 hold(s)"), out.stdout
        assert "AAHsecret" not in out.stdout + out.stderr and "mailPASSWORD" not in out.stdout + out.stderr

        listed = json.loads(run_monitor(config, "outbox", "holds", "--json").stdout)
        assert [(h["channels"], h["kind"], h["reason"]) for h in listed] == [
            ("mail", "rate", "rate"),
            ("tg, tg2", "server", "flood wait"),
        ]
        assert 1700 < listed[0]["left_seconds"] <= 1800 and 250 < listed[1]["left_seconds"] <= 300

        # the chat's flood wait, cleared under its other name
        cleared = run_monitor(config, "outbox", "holds", "--clear", "tg2")
        assert cleared.returncode == 0 and "cleared 1 hold(s) of channel 'tg2'" in cleared.stdout, cleared
        after = json.loads(run_monitor(config, "outbox", "holds", "--json").stdout)
        assert [h["channels"] for h in after] == ["mail"]
        again = run_monitor(config, "outbox", "holds", "--clear", "tg")
        assert again.returncode == 1 and "no hold keeps channel 'tg' silent" in again.stderr, again
        assert run_monitor(config, "outbox", "holds", "--clear", "mail").returncode == 0
        assert run_monitor(config, "outbox", "holds").stdout.splitlines()[-1].startswith("total: 0 hold(s)")
        misplaced = run_monitor(config, "outbox", "--clear", "tg")  # not with the alert list
        assert misplaced.returncode == 2 and "goes with holds" in misplaced.stderr, misplaced
