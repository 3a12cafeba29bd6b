"""Issue 18 (red team 18): `monitor explain FILE` reads at most fetch.max_bytes and refuses
what is not a regular file (a device, a FIFO), never a MemoryError or a hang."""

from __future__ import annotations

import os

import pytest

from tests.acceptance.test_store_shown import monitor, small_config


def test_explain_reads_a_file_within_the_page_budget(tmp_path):
    """`explain /dev/zero` read the whole "file" into memory (MemoryError traceback). Run under a
    2 GB address-space limit so it cannot hurt the machine."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    result = monitor(small_config(tmp_path), "explain", "/dev/zero", preexec_fn=limit)
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr[-400:]
    assert result.returncode in (1, 2)


@pytest.mark.parametrize(
    ("make", "code", "says"),
    [
        (lambda d: os.mkfifo(d / "page.html") or "page.html", 2, "not a regular file"),  # a FIFO: no hang
        (lambda d: "/dev/zero", 2, "not a regular file"),
        (lambda d: "/dev/null", 2, "not a regular file"),
        (lambda d: (d / "big.html").write_bytes(b"<p>" + b"a" * 11 * 1024 * 1024) and "big.html", 2, "fetch.max_bytes"),
        (lambda d: d.name and ".", 2, "directory"),
    ],
)
def test_explain_refuses_what_is_not_an_article_file(tmp_path, make, code, says):
    cwd = small_config(tmp_path)
    target = make(tmp_path)
    result = monitor(cwd, "explain", target)
    assert result.returncode == code, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
