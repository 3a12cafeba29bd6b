"""The full SaudiNewsNet corpus from ../shared, for bench scripts only (tests use tests/fixtures)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

SHARED_SNN = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "saudinewsnet"


def shared_days() -> list[list[dict]]:
    """The corpus's articles, one list per day file; [] when ../shared is absent."""
    days: list[list[dict]] = []
    for z in sorted(SHARED_SNN.glob("*.zip")):
        with zipfile.ZipFile(z) as zf:
            for name in zf.namelist():
                if name.endswith(".json"):
                    days.append(json.loads(zf.read(name)))
    return days


def all_articles(fallback_extra: list[dict] | None = None) -> tuple[list[dict], str]:
    """(articles, where they came from): the full corpus, else the tests/fixtures excerpts
    plus `fallback_extra`, saying so on stdout."""
    arts = [a for day in shared_days() for a in day]
    if arts:
        return arts, f"full SaudiNewsNet corpus in {SHARED_SNN} ({len(arts)} articles)"
    from tests.support import corpus_pages as cp

    print(f"NOTE: {SHARED_SNN} is absent: falling back to the tests/fixtures excerpts (fewer articles).")
    arts = [a for d in cp.DAYS for a in cp.saudinewsnet_articles(d)] + list(fallback_extra or [])
    return arts, f"tests/fixtures excerpts ({len(arts)} articles)"
