"""A channel URL's apprise check, remembered between processes (issue 16).

Checking a channel URL (:func:`monitor.config.advice.check_channel_url`) imports the apprise
package, requests and urllib3: ≈ 100-130 ms CPU in every `monitor once`, most of an idle pass
that finds every feed unchanged (``bench/startup.py``, row "monitor's channel URL check").
The verdict depends only on the URL, the apprise installed and our checking code, so `once`
and `run` keep the verdicts that found no error in the state database (table
``channel_checks``, monitor/storage/checkcache.py) and ask apprise again only for a URL whose
key is not there.

:func:`check_key` is that key: BLAKE2b of the URL with the checker's fingerprint, keyed by a
hash of the config file's text (so a reader of the database alone cannot test guesses of a
password in a URL; a new config text, a new ``${VAR}`` value, another apprise or another
monitor each give new keys: nothing is invalidated in place, old rows simply stop matching).
:class:`UrlCheckCache` is what the loader asks (``get``) and tells (``put``); a cache that
cannot answer (no database yet, a schema without the table, PostgreSQL) answers None and the
check runs as before, same messages. A verdict with an error is never kept: it is checked again
every time, and the config fails as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Protocol

__all__ = ["UrlCheckCache", "check_key", "checker_fingerprint"]

_HERE = Path(__file__).resolve().parent
# what a verdict is computed by: our checking code, and apprise (its __init__ names its version)
_OURS = (_HERE / "advice.py", _HERE / "channelurls.py")


class UrlCheckCache(Protocol):
    """Verdicts without an error (their warnings) by key, in the store at ``storage_url`` (the
    config's; the cache applies MONITOR_STORAGE itself). ``get``: None when not known."""

    def get(self, storage_url: str, key: str) -> tuple[str, ...] | None: ...

    def put(self, storage_url: str, key: str, warnings: tuple[str, ...]) -> None: ...


@lru_cache(maxsize=1)
def checker_fingerprint() -> bytes:
    """BLAKE2b (32 bytes) of advice.py, channelurls.py and apprise's ``__init__.py`` (which holds
    ``__version__``), read without importing apprise (≈ 0.1 ms; ``importlib.metadata`` ≈ 40 ms).
    An unreadable file counts as its name only (apprise missing: every check fails anyway)."""
    spec = importlib.util.find_spec("apprise")
    files = [*_OURS, Path(spec.origin)] if spec is not None and spec.origin else list(_OURS)
    digest = hashlib.blake2b(digest_size=32)
    for path in files:
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
        digest.update(b"\0")
    return digest.digest()


def check_key(url: str, config_text: str) -> str:
    """64 hex characters naming the verdict on ``url`` (as given to apprise, ``${VAR}`` filled)
    in the config whose text is ``config_text``, with this apprise and this monitor."""
    salt = hashlib.sha256(config_text.encode("utf-8", "surrogatepass")).digest()
    data = checker_fingerprint() + b"\0" + url.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, key=salt, digest_size=32).hexdigest()
