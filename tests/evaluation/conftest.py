"""Fixtures for the evaluation harnesses: the hand-written ReDial files, the real MovieLens
catalog and its knowledge graph (built once per test session in the session's CHATREC_HOME)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def settings(test_settings):
    return test_settings


@pytest.fixture(scope="session")
def movielens(ml_catalog):
    return ml_catalog


@pytest.fixture(scope="session")
def movielens_kg(movielens, settings):
    from kg.graph import KnowledgeGraph

    return KnowledgeGraph.load_or_build(movielens, settings)


@pytest.fixture(scope="session")
def redial_names(data_dir) -> dict[str, str]:
    from chatrec.catalog.raw import read_id2info

    return {i: " ".join(v["name"].split()) for i, v in read_id2info(data_dir).items()}
