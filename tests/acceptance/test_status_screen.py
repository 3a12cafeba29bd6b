"""Issue 18 (red team 18): `monitor status` fits 80x24 also when every feed fails (the
network is down: the moment one runs it over ssh)."""

from __future__ import annotations

import pytest

from tests.acceptance.test_store_shown import monitor


@pytest.mark.parametrize("n", [9, 30])
def test_status_fits_24_lines_when_every_feed_fails(tmp_path, n):
    """30 feeds failing: "with more than 8, only those not ok" showed all 30 (42 lines)."""
    feeds = "".join(f"  - name: Feed {i}\n    url: http://127.0.0.1:1/feed-{i}.xml\n" for i in range(n))
    (tmp_path / "config.yaml").write_text(
        "storage: sqlite:///m.db\nfetch: {allow_private_networks: true}\n"
        f"feeds:\n{feeds}"
        "channels:\n  telegram: tgram://${TG}/1\n"
        "topics:\n  - id: t1\n    name: T1\n    any: [روسيا]\n    notify: telegram\n",
        encoding="utf-8",
    )
    assert monitor(tmp_path, "once").returncode == 1  # every source failed
    result = monitor(tmp_path, "status", env={"COLUMNS": "80", "LINES": "24"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(lines) <= 24, result.stdout
    if n > 8:
        assert f"and {n - 8} more not ok" in result.stdout, result.stdout
