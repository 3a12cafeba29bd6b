"""Fixtures for acceptance tests: fresh databases on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.support.databases import KINDS, fresh_database_url


@pytest.fixture(params=KINDS)
def store_url(request, tmp_path):
    """A URL for a fresh, empty database: a file for SQLite, a new schema for PostgreSQL."""
    with fresh_database_url(request.param, tmp_path) as url:
        yield url
