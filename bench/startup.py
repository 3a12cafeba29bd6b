#!/usr/bin/env python3
"""What a `monitor` process pays at start, module by module (issue 16).

    python3 bench/startup.py [--repeat K] [--tree DIR] [--source-only]

In K fresh interpreters each (default 5): CPU (time.process_time) and peak RSS (ru_maxrss) of
importing what `monitor once` imports before it polls (monitor.cli.main, monitor.pipeline,
monitor.storage.store), then, on top of that, of each library `once` loads only when it needs it
(numpy to fingerprint an article, trafilatura to extract one, prometheus_client when the metrics
registry is read, the PostgreSQL dialect for a PostgreSQL store, alembic when the schema is behind,
feedparser when a feed body is parsed, lxml and the extractor with the first page, the matcher with
the first article, apprise's senders with the first send, apprise's plugins), and what checking a
json:// channel URL costs monitor. It also says which of
them the first import already loaded (it should be none). --tree runs another checkout (e.g. main) for before/after.
No data needed. The checkout's monitor/ is copied to a temporary folder and compiled first, as an
install is (with PYTHONDONTWRITEBYTECODE=1 a checkout is compiled from source in every process);
--source-only imports the checkout as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BASE = "import monitor.cli.main, monitor.pipeline, monitor.storage.store"
EXTRAS = {
    "numpy": "import numpy",
    "trafilatura": "import trafilatura",
    "prometheus_client": "import prometheus_client",
    "sqlalchemy.dialects.postgresql": "import sqlalchemy.dialects.postgresql",
    "alembic": "import alembic.command",
    # issue 16, idle pass: a feed body, a page, an article to match, something to send
    "feedparser": "import monitor.sources.rss",
    "lxml.etree": "import monitor.extract.article",
    "monitor.matching.matcher": "import monitor.matching.matcher",
    "monitor.delivery.notify": "import monitor.delivery.notify",
    "apprise plugins": "import apprise; apprise.Apprise.instantiate('json://127.0.0.1/x')",
    # what `once` and `run` do with a channel URL (config checks; a send reads it the same way)
    "monitor's channel URL check": "from monitor.config.advice import check_channel_url as c; c('json://127.0.0.1/x')",
}


PROBE = """import json, resource, sys, time
def point():
    return time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
{base}
c0, r0 = point()
loaded = [m for m in {names!r} if m in sys.modules]
{extra}
c1, r1 = point()
print(json.dumps([c0, r0, c1 - c0, r1 - r0, loaded]))
"""


def child(extra: str, tree: Path) -> list:  # type: ignore[type-arg]
    """[CPU s and peak RSS MB after BASE, CPU s and RSS MB that `extra` added, deferred ones loaded]."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}
    code = PROBE.format(base=BASE, extra=extra, names=list(EXTRAS)[:-2])
    # cwd=tree: `python -c` puts the working directory first on sys.path
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tree", default=str(ROOT))
    ap.add_argument("--source-only", action="store_true", help="import the checkout without compiling it first")
    args = ap.parse_args()
    tree = Path(args.tree).resolve()
    if not args.source_only:
        site = Path(tempfile.mkdtemp(prefix="startup-"))
        shutil.copytree(tree / "monitor", site / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(site / "monitor")], check=True)
        print(f"{tree}/monitor compiled into {site}, as installed")
        tree = site
    runs = [child("pass", tree) for _ in range(args.repeat)]
    print(f"monitor from {tree}; medians of {args.repeat} fresh interpreters")
    cpu, rss = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    print(f"  {BASE}: {cpu * 1000:.0f} ms CPU, {rss:.1f} MB peak RSS")
    print(f"  of the deferred libraries, already loaded by it: {runs[0][4] or 'none'}")
    for name, code in EXTRAS.items():
        extra = [child(code, tree) for _ in range(args.repeat)]
        cpu, rss = statistics.median(r[2] for r in extra), statistics.median(r[3] for r in extra)
        print(f"  then {name:32s} {cpu * 1000:+6.0f} ms CPU  {rss:+6.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
