"""Shared test set-up: offline switches, a throw-away CHATREC_HOME, and the shared data directory.

Tests read the real public data from ``CHATREC_DATA_DIR`` (CI points it at ``../shared/data``);
when it is absent, tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
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


# ---------------------------------------------------------------- shared catalog/agent fixtures
# Films the agent tests talk about; the small test catalog always contains them.
MUST_HAVE_TITLES = [
    "Inception", "Titanic (1997)", "Titanic (1953)", "Heat (1995)", "The Matrix", "Interstellar",
    "Toy Story", "Forrest Gump", "Big (1988)", "Sleepless in Seattle", "Cast Away",
    "The Dark Knight", "The Prestige", "Memento", "Jumanji", "The Shining", "Home Alone",
]
SMALL_CATALOG_SIZE = 1200


@pytest.fixture(scope="session")
def test_settings(session_home, data_dir):
    from chatrec.config import Settings

    return Settings(home=session_home, data_dir=data_dir)


@pytest.fixture(scope="session")
def ml_catalog(test_settings):
    from chatrec.catalog import load_catalog

    return load_catalog("movielens", test_settings)


@pytest.fixture(scope="session")
def small_catalog(ml_catalog):
    """The most-rated MovieLens films plus the ones tests name: small enough to embed quickly."""
    ids = [it.id for it in ml_catalog.popular(SMALL_CATALOG_SIZE)]
    for title in MUST_HAVE_TITLES:
        found = ml_catalog.find_title(title)
        assert found, f"{title} missing from MovieLens"
        ids.append(found[0].id)
    return ml_catalog.subset(dict.fromkeys(ids), name="movielens-small")


@pytest.fixture(scope="session")
def small_resources(small_catalog, test_settings):
    """Catalog, KG, linker, a real Chroma index on disk and collaborative models (built once)."""
    from chatrec.resources import Resources

    return Resources.load(small_catalog, test_settings, build_missing=True)


@contextmanager
def agent_factory(resources, default_store: Path):
    """``make(store_path=None, **agent_kwargs)`` → an Agent over ``resources`` with a SQLite store
    (``default_store`` unless given); the stores are closed on exit."""
    from chatrec.agent import Agent
    from chatrec.store import Store

    stores = []

    def make(store_path=None, **kwargs):
        store = Store(store_path or default_store)
        stores.append(store)
        return Agent(resources, store=store, **kwargs)

    try:
        yield make
    finally:
        for store in stores:
            store.close()


@pytest.fixture
def make_agent(small_resources, tmp_path):
    """A factory for agents over the small resources with a fresh SQLite store per test."""
    with agent_factory(small_resources, tmp_path / "store.sqlite3") as make:
        yield make


@pytest.fixture
def agent(make_agent):
    return make_agent()


# ---------------------------------------------------------------- PostgreSQL (real server)
@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL cluster on loopback for the whole test session (initdb into a temp
    folder, its own port, stopped by pid). Skipped where PostgreSQL is not installed, unless
    ``CHATREC_REQUIRE_POSTGRES=1`` (CI installs it and sets that, so a missing server fails)."""
    from chatrec.testing.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        if os.environ.get("CHATREC_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh, empty database on the session's PostgreSQL server."""
    import re

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    return postgres_server.create_database(name)


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory):
    """A real ``chroma run`` server on loopback for the whole test session."""
    from chatrec.testing.chroma_server import ChromaServer, ChromaUnavailable

    try:
        server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    except ChromaUnavailable as exc:
        pytest.skip(str(exc))
    yield server.url
    server.stop()


# ---------------------------------------------------------------- the data-free tier
# A hand-written catalog of 48 films with people, genres, keywords and the ratings of 12 users
# (tests/fixtures/films). It needs no CHATREC_DATA_DIR: the agent runs end to end on it in seconds,
# over a real Chroma index on disk whose embedder is a deterministic word hashing.
FILMS = REPO / "tests" / "fixtures" / "films" / "films.jsonl"


@pytest.fixture(scope="session")
def films_settings(tmp_path_factory):
    from chatrec.config import Settings

    return Settings(home=tmp_path_factory.mktemp("films-home"))


@pytest.fixture(scope="session")
def films_resources(films_settings):
    """Catalog, KG, linker, Chroma index (hashing embedder) and collaborative models of the films."""
    from chatrec.catalog import load_catalog
    from chatrec.testing.resources import hashed_resources

    resources = hashed_resources(load_catalog(str(FILMS), films_settings), films_settings)
    yield resources
    resources.index.close()


@pytest.fixture
def make_films_agent(films_resources, tmp_path):
    """A factory for agents over the films with a fresh SQLite store per test."""
    with agent_factory(films_resources, tmp_path / "films-store.sqlite3") as make:
        yield make


@pytest.fixture
def films_agent(make_films_agent):
    return make_films_agent()
