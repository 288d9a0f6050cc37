"""The vector index on the hand-written films: a real Chroma collection on disk, embedded by a
deterministic word hashing (no model download, no data directory), queried with and without
hard constraints through both filter engines."""

from __future__ import annotations

import numpy as np
import pytest

from chatrec.catalog.constraints import Constraints, ItemFilter


@pytest.fixture(scope="module")
def index(films_resources):
    return films_resources.index


@pytest.fixture(scope="module")
def films(films_resources):
    return films_resources.catalog


@pytest.fixture(params=["memory", "chroma"])
def engine(request, index):
    index.filter_engine = request.param
    yield request.param
    index.filter_engine = "memory"


def test_every_film_is_indexed_as_a_unit_vector(index, films):
    ids, matrix = index.vectors()
    assert sorted(ids) == sorted(films.ids) and index.count() == len(films)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)


def test_words_of_a_description_find_the_film(index, films):
    hits = index.query("stranded astronaut grows food on mars", k=3)
    assert hits[0][0] == films.find_title("The Martian")[0].id
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("constraints", [
    Constraints(year_min=1990, year_max=1999),
    Constraints(genres_all=["sci-fi"], genres_none=["horror"]),
    Constraints(people_any=["Tom Hanks"]),
    Constraints(people_none=["Keanu Reeves"], genres_any=["action", "thriller"]),
    Constraints(year_max=1985, genres_any=["horror"]),
])
def test_filtered_queries_return_exactly_the_matching_films(index, films, engine, constraints):
    hits = index.query("a film", k=len(films), flt=constraints)
    assert {i for i, _ in hits} == {item.id for item in films if constraints.matches(item)}


def test_excluded_films_never_come_back(index, films, engine):
    first = {i for i, _ in index.query("love story", k=5)}
    again = index.query("love story", k=5, flt=ItemFilter(exclude_ids=first))
    assert len(again) == 5 and not first & {i for i, _ in again}


def test_an_undated_film_fails_any_year_bound(index, films, engine):
    undated = films.find_title("Untitled Festival Short")[0].id
    assert undated in {i for i, _ in index.query("festival", k=len(films))}
    assert undated not in {i for i, _ in index.query("festival", k=len(films), flt=Constraints(year_min=1900))}


def test_an_unfiltered_query_on_a_small_index_is_the_exact_top_k(index, films, monkeypatch):
    # Exact, so every process answers a query alike: HNSW's approximate answer to one ReDial
    # query differed between processes, and so did the rankers learnt from recorded queries.
    def approximate(*_args, **_kwargs):
        raise AssertionError("an unfiltered query on a small index went to HNSW")

    monkeypatch.setattr(index, "_search", approximate)
    query = "a heist that goes wrong in the city"
    ids, matrix = index.vectors()
    from chatrec.index.store import embed_query

    vector = embed_query(index.embedder, query)
    scores = matrix @ vector
    order = np.argsort(-scores, kind="stable")[:10]
    hits = index.query_vector(vector, k=10)
    assert [item_id for item_id, _ in hits] == [ids[i] for i in order]
    assert [s for _, s in hits] == pytest.approx([float(scores[i]) for i in order], abs=1e-5)
