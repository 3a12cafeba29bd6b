"""The cost of one cluster tick when N feeds are due at once (issue 17, red team 17d #4): a
first start, the end of an outage, a burst of feeds sharing an interval.

    python3 bench/cluster_tick.py [--feeds 3000]

Prints the seconds of a first tick (no job waits yet), of the next two (every job waits),
and of two first ticks at once, and checks each feed got exactly one waiting job. Needs the
PostgreSQL server of the tests (tests/support/databases.py); each run uses its own database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.service.cluster import ClusterNode
from monitor.storage import Store
from tests.support.cluster import sql
from tests.support.databases import fresh_pg_database


async def _ticks(node: ClusterNode, url: str) -> None:
    async with node.app.open_async():
        poll, send = node.app.tasks["monitor.poll"], node.app.tasks["monitor.send"]
        for k in range(3):
            began = time.monotonic()
            await node._tick(poll, send)
            print(f"tick {k} ({'first' if k == 0 else 'every job waits'}): {time.monotonic() - began:.2f} s")
        sql(url, "DELETE FROM procrastinate_jobs")
        began = time.monotonic()
        await asyncio.gather(node._tick(poll, send), node._tick(poll, send))
        print(f"two first ticks at once: {time.monotonic() - began:.2f} s")
        jobs, locks = (sql(url, "SELECT count(*), count(DISTINCT queueing_lock) FROM procrastinate_jobs") or [(0, 0)])[
            0
        ]
        print(f"jobs waiting {jobs}, distinct {locks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=3000)
    n = parser.parse_args().feeds
    feeds = ",".join(f'{{name: F{i}, url: "http://127.0.0.1:9/f{i}.xml"}}' for i in range(n))
    with fresh_pg_database() as url:
        text = f"""
storage: {url}
cluster: true
feeds: [{feeds}]
channels: {{tg: {{urls: "tgram://1:x/2"}}}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""
        store, fetcher = Store(url), Fetcher(timeout=5, user_agent="bench")
        try:
            asyncio.run(_ticks(ClusterNode(Pipeline(parse_config(text, env={}), store, fetcher)), url))
        finally:
            fetcher.close()
            store.close()


if __name__ == "__main__":
    main()
