"""monitor: watch Arabic news feeds, match topics, alert on Telegram and email."""

import os
import sys

__version__ = "0.1.0"


def _http_stack_without_extras() -> None:
    """Import httpx and httpcore without their optional extras ``trio``, ``rich`` and ``click``.

    Both treat the extra as optional (``try: import trio / from ._main import main except
    ImportError``); when the extra is installed anyway they import it on every start: trio
    for httpcore's async locks, click, pygments and rich for httpx's command line (``httpx._main``
    imports click first), ≈ 0.3 s CPU and ≈ 15 MB
    per process (issue 16), neither used by our synchronous client. A ``None`` entry in
    ``sys.modules`` makes an import raise ImportError (the import system's documented
    behaviour), so both take their "not installed" branch; the entries are removed at
    once, and a later ``import rich`` (``monitor status``), ``import click`` or ``import trio``
    works as usual.
    """
    if "httpcore" in sys.modules or "httpx" in sys.modules:
        return  # already imported by the embedding program: leave it as it is
    hidden = [name for name in ("trio", "rich", "click") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401
        import httpx  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


def _numpy_without_blas_threads() -> None:
    """Ask OpenBLAS, which numpy's wheels load at ``import numpy``, for no thread pool of its own.

    The near-duplicate fingerprint (dedup/neardup.py) uses numpy's element-wise arithmetic only,
    never its linear algebra, yet OpenBLAS starts a pool of one thread per core at import, and
    its threads poll for work: on the 2-core machine ≈ 40 ms CPU more per ``import numpy``
    (83 vs 122-151 ms) and ≈ 2.3% of a working ``monitor once`` round in ``blas_thread_server``
    (``perf record``; issue 16, bench/README.md "OpenBLAS's thread pool"). OpenBLAS reads
    ``OPENBLAS_NUM_THREADS`` once, when it is loaded, so it is set here, before anything imports
    numpy; a value the user set is kept (OpenBLAS also reads ``GOTO_NUM_THREADS`` and
    ``OMP_NUM_THREADS`` when ``OPENBLAS_NUM_THREADS`` is unset: a user's value of those is kept too,
    redteam16c), and an already imported numpy is left as it is.
    """
    if "numpy" not in sys.modules and not any(os.environ.get(name) is not None for name in _BLAS_THREADS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")  # OpenBLAS's order


_http_stack_without_extras()
_numpy_without_blas_threads()
