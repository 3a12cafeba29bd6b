"""Store URL errors that need no database: an unsupported or garbage URL, and an unusable
PostgreSQL URL whose error never shows the password. The Store itself, on SQLite and
PostgreSQL, is in tests/integration/test_storage.py.
"""

from __future__ import annotations

import pytest

from monitor.errors import StoreError
from monitor.storage import Store


def test_unusable_postgres_hides_password():
    with pytest.raises(StoreError) as info:
        Store("postgresql+psycopg://postgres:Sup3rS3cret@127.0.0.1:1/test?connect_timeout=3")
    message = str(info.value)
    assert "cannot open store" in message
    assert "Sup3rS3cret" not in message
    assert "127.0.0.1:1" in message


def test_unsupported_or_garbage_url_raises_store_error():
    with pytest.raises(StoreError):
        Store("nonsense://user:pw@host/db")
