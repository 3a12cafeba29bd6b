"""`reload_on_change` reloads once per settled version of the config file, and a version that
was refused is never tried again until the file changes (issue 12, loss 8: no reload loop on a
config saved as windows-1256 or UTF-16; the refusal is logged once)."""

from __future__ import annotations

import pytest

from monitor.service.daemon import ConfigWatch

pytestmark = pytest.mark.unit

V1, V2, V3 = (1, 10, 7), (2, 12, 7), (3, 12, 8)


def run(watch: ConfigWatch, ticks: list[tuple[object, float]], outcome: dict) -> list[float]:
    """Feed (signature, time) ticks; a due reload is done (refused if `outcome` says so). Times of reloads."""
    reloads = []
    for sig, now in ticks:
        if watch.changed(sig, now):
            reloads.append(now)
            watch.loaded(sig)
            if outcome.get(sig) == "refused":
                watch.refused(sig)
    return reloads


@pytest.mark.parametrize(
    "name, ticks, outcome, want",
    [
        ("unchanged", [(V1, t) for t in range(10)], {}, []),
        ("one save, settled", [(V1, 0), (V2, 1), (V2, 2), (V2, 3), (V2, 4)], {}, [3]),
        ("written in steps: settles on the last", [(V2, 1), (V3, 2), (V3, 3), (V3, 4), (V3, 5)], {}, [4]),
        (
            "a bad version is tried once, however long it stays",
            [(V2, t) for t in range(1, 60)],
            {V2: "refused"},
            [3],
        ),
        (
            "fixed after a refusal: the new version is loaded",
            [(V2, t) for t in range(1, 10)] + [(V3, t) for t in range(10, 20)],
            {V2: "refused"},
            [3, 12],
        ),
        (
            "file gone (None) then back",
            [(None, 1), (None, 2), (None, 3), (V2, 4), (V2, 5), (V2, 6)],
            {None: "refused"},
            [3, 6],
        ),
    ],
)
def test_reload_once_per_settled_version(name, ticks, outcome, want):
    assert run(ConfigWatch(V1, settle=2.0), ticks, outcome) == want


def test_a_refused_version_is_known_bad_until_the_file_changes():
    watch = ConfigWatch(V1)
    assert not watch.known_bad(V2)
    watch.loaded(V2)
    watch.refused(V2)
    assert watch.known_bad(V2) and not watch.known_bad(V3) and not watch.known_bad(V1)
