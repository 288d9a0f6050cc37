"""Fixtures for the collaborative models: the real MovieLens catalog and models fitted on it once
per test session (in the session's CHATREC_HOME, so the disk cache is exercised too)."""

from __future__ import annotations

import pytest

from chatrec.catalog.models import Catalog
from chatrec.collab import CollaborativeModels, load_or_fit


@pytest.fixture(scope="session")
def movielens(data_dir, session_home) -> Catalog:
    from chatrec.catalog.loader import load_catalog
    from chatrec.config import Settings

    return load_catalog("movielens", Settings(home=session_home, data_dir=data_dir))


@pytest.fixture(scope="session")
def models(movielens, session_home, data_dir) -> CollaborativeModels:
    from chatrec.config import Settings

    return load_or_fit(movielens, Settings(home=session_home, data_dir=data_dir))


@pytest.fixture(scope="session")
def ids(movielens):
    """Item ids by a short name, resolved through the catalog's own title lookup."""

    def one(title: str) -> str:
        found = movielens.find_title(title)
        assert found, f"{title} not in the catalog"
        return found[0].id

    return {
        "toy story": one("Toy Story (1995)"),
        "toy story 2": one("Toy Story 2 (1999)"),
        "star wars 4": one("Star Wars: Episode IV - A New Hope (1977)"),
        "star wars 5": one("Star Wars: Episode V - The Empire Strikes Back (1980)"),
        "star wars 6": one("Star Wars: Episode VI - Return of the Jedi (1983)"),
        "heat": one("Heat (1995)"),
    }
