"""monitor: watch Arabic news feeds, match topics, alert on Telegram and email."""

import sys

__version__ = "0.1.0"


def _http_stack_without_extras() -> None:
    """Import httpx and httpcore without their optional extras ``trio`` and ``rich``.

    Both treat the extra as optional (``try: import trio / from ._main import main except
    ImportError``); when the extra is installed anyway they import it on every start: trio
    for httpcore's async locks and rich for httpx's command line, ≈ 0.3 s CPU and ≈ 15 MB
    per process (issue 16), neither used by our synchronous client. A ``None`` entry in
    ``sys.modules`` makes an import raise ImportError (the import system's documented
    behaviour), so both take their "not installed" branch; the entries are removed at
    once, and a later ``import rich`` (``monitor status``) or ``import trio`` works as usual.
    """
    if "httpcore" in sys.modules or "httpx" in sys.modules:
        return  # already imported by the embedding program: leave it as it is
    hidden = [name for name in ("trio", "rich") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401
        import httpx  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


_http_stack_without_extras()
