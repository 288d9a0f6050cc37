"""Fixtures for the store tests: a fresh store per test, in SQLite and in PostgreSQL."""

from __future__ import annotations

import pytest

from chatrec.store import Store


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "chatrec.sqlite3"


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, store_path):
    """Where a store lives: a SQLite file, or a fresh database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return store_path
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(location):
    with Store(location) as opened:
        yield opened
