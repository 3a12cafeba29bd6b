"""monitor: watch Arabic news feeds, match topics, alert on Telegram and email."""

import sys

__version__ = "0.1.0"


def _import_http_lean() -> None:
    """Import httpx and httpcore without their optional extras we never use.

    httpx imports its command-line tool (click, rich, pygments) and httpcore imports trio
    when they are installed: ~120 ms CPU and ~10 MB per process that a daemon or a
    `monitor once` pass does not need. Both imports are optional in those libraries
    (guarded by ImportError), so they are blocked only while httpx/httpcore load and
    unblocked afterwards: a later explicit `import trio` still works.
    """
    if "httpcore" in sys.modules or "httpx" in sys.modules:
        return
    blocked = [name for name in ("trio", "httpx._main") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401
        import httpx  # noqa: F401
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


_import_http_lean()
