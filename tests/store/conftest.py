"""Fixtures for the store tests: a fresh store file per test."""

from __future__ import annotations

import pytest

from chatrec.store import Store


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "chatrec.sqlite3"


@pytest.fixture
def store(store_path):
    with Store(store_path) as opened:
        yield opened
