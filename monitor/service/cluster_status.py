"""What cluster mode shows and connects with, apart from the node itself
(service/cluster.py): procrastinate's connection string, this node's name (its default,
unique per live process, and its length), and the ``cluster`` summary of /healthz and
`monitor status` (nodes alive, job counts)."""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any

from sqlalchemy.engine import make_url

from monitor.errors import ConfigError
from monitor.storage import NODE_NAME_MAX, NodeRow

ALIVE_BEATS = 3  # a node whose row is older than this many heartbeats shows as not alive


def conninfo(storage_url: str) -> str:
    """The libpq URI procrastinate's psycopg pool opens for a SQLAlchemy `storage_url`
    (``postgresql+psycopg://...`` -> ``postgresql://...``, query options such as
    ``options=-csearch_path=...`` kept)."""
    url = make_url(storage_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def node_name() -> str:
    """This node's name: ``MONITOR_NODE`` if set, else ``host:pid:xxxxxx`` with a random
    suffix: two live processes with the same host name and pid (two containers' pid 1 on
    the host's network, redteam17c #4) never share a default name."""
    return os.environ.get("MONITOR_NODE") or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def check_node_name(name: str) -> str:
    """`name` if it fits the node table's column, else ConfigError naming MONITOR_NODE (a
    longer name would never get its row: the node invisible, its beats failing)."""
    if len(name) > NODE_NAME_MAX:
        raise ConfigError(
            f"MONITOR_NODE is {len(name)} characters long, over the {NODE_NAME_MAX} a node name may have: "
            f"set a shorter MONITOR_NODE (it starts {name[:40]!r})"
        )
    return name


def alive_after(stall_after: float, beat_every: float) -> float:
    """Seconds after its last beat a node still counts as alive."""
    return max(ALIVE_BEATS * beat_every, stall_after)


def row_alive_for(row: NodeRow, stall_after: float, beat_every: float) -> float:
    """Seconds after its last beat the node of `row` still counts as alive: by its own
    ``cluster_stall_after`` (in its row; it beats at least ALIVE_BEATS times in it), as its
    jobs are judged stalled, so a reader or claimant whose config differs (a rolling change)
    neither kills a slow beater nor revives a dead node; `stall_after` and `beat_every` (the
    reader's) for a row without its figure."""
    return row.stall_after if row.stall_after is not None else alive_after(stall_after, beat_every)


def cluster_summary(store: Any, stall_after: float, beat_every: float, *, node: str | None = None) -> dict[str, Any]:
    """Nodes (alive or not) and procrastinate job counts, for /healthz and `monitor status`."""
    nodes = []
    for row in store.nodes():
        age = row.beat_age  # by the database's clock: a node's skewed clock neither kills nor revives it
        nodes.append(
            {
                "name": row.name,
                "host": row.host,
                "pid": row.pid,
                "started": row.started_at.isoformat(timespec="seconds"),
                "last_beat_age_seconds": round(age, 3),
                "alive": row.stopped_at is None and age <= row_alive_for(row, stall_after, beat_every),
                "stopped": row.stopped_at.isoformat(timespec="seconds") if row.stopped_at else None,
            }
        )
    jobs = store.job_counts(stall_after)
    body: dict[str, Any] = {
        "nodes_alive": sum(n["alive"] for n in nodes),
        "nodes": nodes,
        "jobs_queued": jobs.queued,
        "jobs_running": jobs.running,
        "jobs_stalled": jobs.stalled,
        "jobs_failed": jobs.failed,
    }
    if node is not None:
        body["node"] = node
    return body
