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
