"""Fixtures of the kg room: the real catalogs with their graphs and linkers, built once per test
session (disk caches under the session's CHATREC_HOME), and a small book catalog (not movies)
that the tests write themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatrec.catalog import Catalog, load_catalog
from chatrec.config import Settings
from kg.graph import KnowledgeGraph
from kg.linker import EntityLinker


@pytest.fixture(scope="session")
def kg_settings(session_home: Path, data_dir: Path) -> Settings:
    """Settings on the session home and the shared data (built explicitly: session fixtures run
    before the per-test environment fixture)."""
    return Settings(home=session_home, data_dir=data_dir)


@pytest.fixture(scope="session")
def ml(kg_settings: Settings) -> Catalog:
    return load_catalog("movielens", kg_settings)


@pytest.fixture(scope="session")
def ml_kg(ml: Catalog, kg_settings: Settings) -> KnowledgeGraph:
    return KnowledgeGraph.load_or_build(ml, kg_settings)


@pytest.fixture(scope="session")
def ml_linker(ml: Catalog, ml_kg: KnowledgeGraph, kg_settings: Settings) -> EntityLinker:
    return EntityLinker(ml_kg, ml, settings=kg_settings)


@pytest.fixture(scope="session")
def redial(kg_settings: Settings) -> Catalog:
    return load_catalog("redial", kg_settings)


@pytest.fixture(scope="session")
def redial_kg(redial: Catalog, kg_settings: Settings) -> KnowledgeGraph:
    return KnowledgeGraph.load_or_build(redial, kg_settings)


@pytest.fixture(scope="session")
def redial_linker(redial: Catalog, redial_kg: KnowledgeGraph, kg_settings: Settings
                  ) -> EntityLinker:
    return EntityLinker(redial_kg, redial, settings=kg_settings)


# A shelf of books: authors are creators (made_by), categories are genres, features keywords.
# "It" and "Emma" are ordinary words, as many movie titles are.
BOOKS = [
    {"id": "b1", "title": "Dune", "year": 1965, "categories": ["science fiction"],
     "creators": ["Frank Herbert"], "features": ["desert planet", "politics"], "popularity": 900},
    {"id": "b2", "title": "The Hobbit", "year": 1937, "categories": ["fantasy"],
     "creators": ["J. R. R. Tolkien"], "features": ["dragons", "quest"], "popularity": 1200},
    {"id": "b3", "title": "The Fellowship of the Ring", "year": 1954, "categories": ["fantasy"],
     "creators": ["J. R. R. Tolkien"], "features": ["quest", "epic"], "popularity": 1000},
    {"id": "b4", "title": "Pride and Prejudice", "year": 1813, "categories": ["romance"],
     "creators": ["Jane Austen"], "features": ["marriage", "class"], "popularity": 800},
    {"id": "b5", "title": "Emma", "year": 1815, "categories": ["romance", "comedy"],
     "creators": ["Jane Austen"], "features": ["matchmaking"], "popularity": 300},
    {"id": "b6", "title": "It", "year": 1986, "categories": ["horror"],
     "creators": ["Stephen King"], "features": ["clowns", "small town"], "popularity": 700},
    {"id": "b7", "title": "The Shining", "year": 1977, "categories": ["horror"],
     "creators": ["Stephen King"], "features": ["hotel", "isolation"], "popularity": 650},
    {"id": "b8", "title": "Neuromancer", "year": 1984, "categories": ["science fiction"],
     "creators": ["William Gibson"], "features": ["cyberpunk", "hackers"], "popularity": 400},
    {"id": "b9", "title": "Foundation", "year": 1951, "categories": ["science fiction"],
     "creators": ["Isaac Asimov"], "features": ["galactic empire", "politics"], "popularity": 500},
    {"id": "b10", "title": "Misery", "year": 1987, "categories": ["horror", "thriller"],
     "creators": ["Stephen King"], "features": ["obsession", "isolation"], "popularity": 450},
]


@pytest.fixture(scope="session")
def books_settings(tmp_path_factory) -> Settings:
    """Settings for the books alone: a home of their own and no data directory."""
    return Settings(home=tmp_path_factory.mktemp("books-home"))


@pytest.fixture(scope="session")
def books(tmp_path_factory, books_settings: Settings) -> Catalog:
    path = tmp_path_factory.mktemp("books") / "books.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in BOOKS) + "\n", encoding="utf-8")
    return load_catalog(str(path), books_settings)


@pytest.fixture(scope="session")
def books_kg(books: Catalog, books_settings: Settings) -> KnowledgeGraph:
    return KnowledgeGraph.load_or_build(books, books_settings)


@pytest.fixture(scope="session")
def books_linker(books: Catalog, books_kg: KnowledgeGraph, books_settings: Settings
                 ) -> EntityLinker:
    return EntityLinker(books_kg, books, settings=books_settings)
