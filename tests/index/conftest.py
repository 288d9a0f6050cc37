"""Fixtures of the index room: one small real index per test session.

The ONNX model file and the document embeddings are kept in pytest's cache folder between
sessions (``.pytest_cache/d/chatrec-index``), so after the first run building the small index
takes a second or two. Other rooms can use ``chatrec.testing.small_index.build_small_index`` the same
way (or these fixtures, by moving them to the root conftest).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatrec.catalog.models import Catalog
from chatrec.config import Settings, get_settings
from chatrec.index import ItemIndex, MiniLMEmbedder
from chatrec.testing.small_index import build_small_index, embedding_cache, shared_embedder, small_catalog

__all__ = ["build_small_index"]


@pytest.fixture(scope="session")
def index_cache_root(request, tmp_path_factory) -> Path:
    """A folder kept between test sessions: the exported ONNX model and cached embeddings
    (a temporary one when pytest's cache is off, ``-p no:cacheprovider``)."""
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("chatrec-index")
    return Path(cache.mkdir("chatrec-index"))


@pytest.fixture(scope="session")
def session_settings(data_dir, session_home, tmp_path_factory) -> Settings:
    """Settings of the session home (the autouse fixture sets the same env for each test)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CHATREC_HOME", str(session_home))
    mp.setenv("CHATREC_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    settings = get_settings()
    mp.undo()
    get_settings.cache_clear()
    return settings


@pytest.fixture(scope="session")
def small_movies(session_settings) -> Catalog:
    return small_catalog(session_settings)


@pytest.fixture(scope="session")
def embedder(session_settings, index_cache_root) -> MiniLMEmbedder:
    return shared_embedder(session_settings, index_cache_root).load()


@pytest.fixture(scope="session")
def small_index(small_movies, session_settings, index_cache_root, embedder) -> ItemIndex:
    """The session's small index. Read-only for tests: tests that write build their own."""
    return build_small_index(small_movies, session_settings, index_cache_root)


@pytest.fixture()
def scratch_settings(tmp_path, data_dir, monkeypatch) -> Settings:
    """Settings with a fresh CHATREC_HOME, for a test that damages or changes its index."""
    monkeypatch.setenv("CHATREC_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture()
def build_scratch(scratch_settings, index_cache_root, embedder):
    """``build(catalog, rebuild=False)`` → an index in the scratch home (cached embeddings)."""

    def build(catalog: Catalog, rebuild: bool = False) -> ItemIndex:
        return ItemIndex.build(catalog, scratch_settings, embedder=embedder, rebuild=rebuild,
                               progress=False,
                               cache=embedding_cache(scratch_settings, embedder, index_cache_root))

    return build


@pytest.fixture()
def tiny_movies(small_movies) -> Catalog:
    """40 movies of the small catalog (their embeddings are cached: building them is quick)."""
    return small_movies.subset(small_movies.ids[:40], name="tiny")
