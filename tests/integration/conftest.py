"""Fixtures for integration tests: fresh databases on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from monitor.storage import Store
from tests.support.databases import KINDS, fresh_database_url


@pytest.fixture(params=KINDS)
def store_url(request, tmp_path):
    """A URL for a fresh, empty database: a file for SQLite, a new schema for PostgreSQL."""
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url):
    """An open :class:`monitor.storage.Store` on `store_url`, closed afterwards."""
    s = Store(store_url)
    try:
        yield s
    finally:
        s.close()
