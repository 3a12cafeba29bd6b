"""Store URL errors that need no database: an unsupported or garbage URL. The Store itself,
on SQLite and PostgreSQL (and an unreachable server's error), is in
tests/integration/test_storage.py.
"""

from __future__ import annotations

import pytest

from monitor.errors import StoreError
from monitor.storage import Store


def test_unsupported_or_garbage_url_raises_store_error():
    with pytest.raises(StoreError):
        Store("nonsense://user:pw@host/db")
