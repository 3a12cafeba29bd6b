"""cli: `monitor once` works its feeds with what it built before them frozen out of the garbage
collector's scans (cli.common.frozen_heap, issue 16), and hands it back when the pass ends;
`main()` as the program (no argv) leaves the heap frozen for the interpreter's exit only."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from monitor.cli import main as cli
from monitor.cli.common import frozen_heap
from monitor.pipeline import Pipeline

pytestmark = pytest.mark.unit

CONFIG = (
    "storage: sqlite:///{db}\n"
    "feeds: [{{name: a, url: 'http://127.0.0.1:9/a.xml'}}, {{name: b, url: 'http://127.0.0.1:9/b.xml'}}]\n"
    "channels: {{m: 'json://127.0.0.1:9/x'}}\n"
    "topics: [{{id: t, name: T, any: [x], notify: [m]}}]\n"
)


@pytest.fixture(autouse=True)
def _thawed():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_frozen_heap_freezes_inside_only() -> None:
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), frozen_heap():
        raise RuntimeError("a pass that fails hands the heap back too")
    assert gc.get_freeze_count() == 0


def test_once_polls_and_delivers_with_the_heap_frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "m.db"), encoding="utf-8")
    seen: dict[str, list[int]] = {"poll": [], "deliver": []}
    real_poll, real_deliver = Pipeline.poll_feed, Pipeline.deliver

    def poll(self, feed, **kw):
        seen["poll"].append(gc.get_freeze_count())
        return real_poll(self, feed, **kw)  # the feeds answer nothing: both fail, as a pass can

    def deliver(self, **kw):
        seen["deliver"].append(gc.get_freeze_count())
        return real_deliver(self, **kw)

    monkeypatch.setattr(Pipeline, "poll_feed", poll)
    monkeypatch.setattr(Pipeline, "deliver", deliver)
    code = cli.main(["--config", str(config), "once"])
    assert code == 1  # every source failed
    assert len(seen["poll"]) == 2 and all(n > 0 for n in seen["poll"]), seen
    assert len(seen["deliver"]) == 1 and seen["deliver"][0] > 0, seen
    assert gc.get_freeze_count() == 0  # an in-process caller gets its heap back


@pytest.mark.parametrize(("argv", "frozen"), [(None, True), (["--config", "/nonexistent/config.yaml", "check"], False)])
def test_main_freezes_for_the_exit_only_as_the_program(argv, frozen, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["monitor", "--config", "/nonexistent/config.yaml", "check"])
    assert cli.main(argv) == 2  # a config error either way
    assert (gc.get_freeze_count() > 0) is frozen
