"""Issue 14 kind 3, the leaks a red-team pass found after the first fixes, as a user meets them:
a config error that quotes a `${VAR}` value (printed before the config loads, so before its
secrets were known), a database password in `storage:` or `MONITOR_STORAGE`, a secret holding
`\\` or `"` in `--json` output (JSON escapes it), and `feeds export -o FILE`. Each row is a
command, its environment and the secret that must not show, in any of stdout or stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.site import run_monitor

BASE = """\
fetch: {allow_private_networks: true}
channels:
  c: json://127.0.0.1:9/x
topics:
  - {id: t, name: T, any: [nothing-matches-this], notify: [c]}
"""


@pytest.mark.parametrize(
    "config, args, env, secret",
    [
        pytest.param(
            "storage: ${DATABASE_URL}\nfeeds: [{name: a, url: 'http://127.0.0.1:1/a.xml'}]\n",
            ["check"],
            {"DATABASE_URL": "Pg5ecretPw"},
            "Pg5ecretPw",
            id="storage-not-a-url-quotes-the-value",
        ),
        pytest.param(
            "http: {listen: '${LISTEN}'}\nfeeds: [{name: a, url: 'http://127.0.0.1:1/a.xml'}]\n",
            ["check"],
            {"LISTEN": "Secr3tListen"},
            "Secr3tListen",
            id="bad-listen-quotes-the-value",
        ),
        pytest.param(
            "feeds: [{name: a, url: 'http://127.0.0.1:1/a.xml?id=${TOK}', url_env: true}]\n",
            ["check"],
            {"TOK": "secret token"},
            "secret token",
            id="feed-url-with-a-space-quotes-the-value",
        ),
        pytest.param(
            "storage: 'postgresql+psycopg://mon@127.0.0.1:1/monitor?password=${PGPW}&connect_timeout=2'\n"
            "feeds: [{name: a, url: 'http://127.0.0.1:1/a.xml'}]\n",
            ["status"],
            {"PGPW": "k9z"},
            "password=k9z",
            id="short-database-password-in-storage",
        ),
        pytest.param(
            "feeds: [{name: a, url: 'http://127.0.0.1:1/a.xml'}]\n",
            ["status"],
            {
                "MONITOR_STORAGE": "postgresql+psycopg://mon@127.0.0.1:1/monitor?password=EnvPgSecret99&connect_timeout=2"
            },
            "EnvPgSecret99",
            id="database-password-in-MONITOR_STORAGE",
        ),
        pytest.param(
            "feeds: [{name: a, url: 'http://127.0.0.1:1/feed?id=${TOK}', url_env: true}]\n",
            ["feeds", "--json"],
            {"TOK": "tok\\en1234"},
            "en1234",
            id="json-escaped-backslash",
        ),
        pytest.param(
            "feeds: [{name: a, url: 'http://127.0.0.1:1/feed?id=${TOK}', url_env: true}]\n",
            ["feeds", "--json"],
            {"TOK": 'to"ken5678'},
            "ken5678",
            id="json-escaped-quote",
        ),
    ],
)
def test_no_output_shows_the_secret(tmp_path: Path, config: str, args: list[str], env: dict[str, str], secret: str):
    path = tmp_path / "config.yaml"
    path.write_text(BASE + config, encoding="utf-8")
    out = run_monitor(path, *args, env=env)
    assert secret not in out.stdout + out.stderr, out.stdout + out.stderr


def test_feeds_export_to_a_file_masks_env_values(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text(
        BASE + "feeds: [{name: a, url: 'http://127.0.0.1:1/feed?id=${TOK}', url_env: true}]\n", encoding="utf-8"
    )
    out = run_monitor(path, "feeds", "export", "-o", str(tmp_path / "list.opml"), env={"TOK": "EnvFeedToken77"})
    assert out.returncode == 0, out.stderr
    exported = (tmp_path / "list.opml").read_text(encoding="utf-8")
    assert "EnvFeedToken77" not in exported and "127.0.0.1:1/feed" in exported
