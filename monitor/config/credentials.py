"""systemd credentials (LoadCredential=NAME:PATH) as a source for config.yaml's ${NAME}.

systemd puts each credential in a file under $CREDENTIALS_DIRECTORY, readable only by
the service. A variable set in the environment wins over a credential of the same name.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment plus every credential whose file name is a variable name."""
    env = dict(os.environ if env is None else env)
    folder = env.get("CREDENTIALS_DIRECTORY")
    if not folder:
        return env
    merged: dict[str, str] = {}
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError as exc:
        log.warning("credentials unreadable dir=%s error=%s", folder, exc.strerror or exc)
        return env
    for path in entries:
        if _NAME.match(path.name) and path.is_file():
            try:
                merged[path.name] = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("credential unreadable name=%s error=%s", path.name, exc)
    merged.update(env)
    return merged
