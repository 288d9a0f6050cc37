"""Shared test set-up: offline switches, a throw-away CHATREC_HOME, and the shared data directory.

Tests read the real public data from ``CHATREC_DATA_DIR`` (CI points it at ``../shared/data``);
when it is absent, tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chatrec.config import apply_offline_switches, get_settings

apply_offline_switches()

REPO = Path(__file__).resolve().parent.parent


def _find_data_dir() -> Path | None:
    env = os.environ.get("CHATREC_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for path in candidates:
        if (path / "movielens" / "ml-latest-small" / "ratings.csv").exists():
            return path.resolve()
    return None


DATA_DIR = _find_data_dir()
needs_data = pytest.mark.skipif(DATA_DIR is None, reason="set CHATREC_DATA_DIR to the shared data")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if DATA_DIR is None:
        pytest.skip("set CHATREC_DATA_DIR to a copy of the shared data (../shared/data)")
    return DATA_DIR


@pytest.fixture(scope="session")
def session_home(tmp_path_factory) -> Path:
    """One CHATREC_HOME for the whole test session (caches built once, shared by tests)."""
    home = Path(os.environ.get("CHATREC_TEST_HOME") or tmp_path_factory.mktemp("chatrec-home"))
    return home


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, session_home):
    """Every test sees the session home and the shared data dir, and fresh settings."""
    monkeypatch.setenv("CHATREC_HOME", str(session_home))
    if DATA_DIR is not None:
        monkeypatch.setenv("CHATREC_DATA_DIR", str(DATA_DIR))
    monkeypatch.delenv("CHATREC_LLM", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
