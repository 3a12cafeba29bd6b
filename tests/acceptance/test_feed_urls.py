"""Issue 18 (red team 18): feed URLs of a new user's first config and OPML import: an
uppercase scheme (`HTTPS://`, RFC 3986 3.1: schemes ignore case) is accepted, and
`feeds import --dry-run` lists every entry it would skip."""

from __future__ import annotations

import pytest

from tests.acceptance.test_check_pitfalls import small_config as topic_config
from tests.acceptance.test_store_shown import monitor, small_config


def test_an_uppercase_scheme_feed_url_is_accepted(tmp_path):
    """URL schemes are case-insensitive (RFC 3986 3.1); `HTTPS://` pasted from a site is refused
    (also by `feeds import`, which skips the entry as "not a valid feed")."""
    cwd = small_config(tmp_path, feed_url="HTTPS://example.org/a.xml")
    result = monitor(cwd, "check", env={})
    assert result.returncode == 0, result.stderr


def test_feeds_import_dry_run_lists_every_entry_it_would_skip(tmp_path):
    """An OPML list of 4 outlines: a `javascript:` one goes to stderr as a warning, an outline
    without xmlUrl is never mentioned, and the summary counts 2 of 4."""
    cwd = topic_config(tmp_path, "    any: [روسيا]\n")
    (tmp_path / "list.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline text="Good" xmlUrl="https://good.example.org/rss.xml"/>'
        '<outline text="JS" xmlUrl="javascript:alert(1)"/>'
        '<outline text="No url"/>'
        '<outline text="Good Two" xmlUrl="https://good2.example.org/rss.xml"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    result = monitor(cwd, "feeds", "import", "list.opml", "--dry-run", env={})
    skipped = [line for line in result.stdout.splitlines() if line.startswith("would skip")]
    assert len(skipped) == 2 and "of 4" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("HTTPS://example.org/a.xml", "https://example.org/a.xml"),
        ("Http://example.org/A.xml", "http://example.org/A.xml"),  # the path keeps its case
        ("hTtPs://example.org/a.xml?x=Y", "https://example.org/a.xml?x=Y"),
    ],
)
def test_a_feed_url_scheme_in_any_case_is_read_lowercase(tmp_path, url, shown):
    result = monitor(small_config(tmp_path, feed_url=url), "check")
    assert result.returncode == 0, result.stderr
    assert f"A: {shown} every" in result.stdout, result.stdout
