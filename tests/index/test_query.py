"""Semantic search and hard filters on the small real index."""

from __future__ import annotations

import numpy as np
import pytest

from chatrec.catalog.constraints import ItemFilter
from chatrec.catalog.normalize import label_key
from chatrec.index.chroma import where_clause

pytestmark = pytest.mark.usefixtures("data_dir")


def _titles(index, hits):
    return [index._items[item_id].display for item_id, _ in hits]


def test_space_exploration_and_time_finds_interstellar(small_index, small_movies):
    interstellar = small_movies.find_title("Interstellar")[0]
    hits = small_index.query("space exploration and time", k=10)
    assert interstellar.id in [item_id for item_id, _ in hits], _titles(small_index, hits)


def test_results_are_sorted_similarities_of_catalog_items(small_index, small_movies):
    hits = small_index.query("a heist goes wrong", k=25)
    assert len(hits) == 25
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)
    assert all(item_id in small_movies for item_id, _ in hits)


def test_similarity_is_cosine_of_the_stored_vectors(small_index, embedder):
    ids, matrix = small_index.vectors()
    query = embedder.embed_query("robots and artificial intelligence")
    hits = small_index.query("robots and artificial intelligence", k=5)
    exact = matrix @ query
    for item_id, score in hits:
        assert score == pytest.approx(float(exact[ids.index(item_id)]), abs=1e-4)


def _brute_force(index, text, flt, k):
    """Exact top-k by cosine among the items that satisfy ``flt``: the ground truth."""
    ids, matrix = index.vectors()
    sims = matrix @ index.embedder.embed_query(text)
    ok = [row for row, item_id in enumerate(ids) if flt.matches(index._items[item_id])]
    ranked = sorted(ok, key=lambda row: -sims[row])
    return [ids[row] for row in ranked[:k]], len(ok)


def _years(index, hits):
    return [index._items[item_id].year for item_id, _ in hits]


def _genres(index, item_id):
    return {label_key(g) for g in index._items[item_id].genres}


FILTERS = {
    "year range": ItemFilter(year_min=1990, year_max=1995),
    "decade": ItemFilter(year_min=1980, year_max=1989),
    "after": ItemFilter(year_min=2010),
    "before": ItemFilter(year_max=1970),
    "genre all": ItemFilter(genres_all=["Sci-Fi", "comedy"]),
    "genre any": ItemFilter(genres_any=["horror", "western"]),
    "genre none": ItemFilter(genres_none=["drama", "comedy", "sci-fi"]),
    "person": ItemFilter(people_any=["Tom Hanks", "christopher nolan"]),
    "person none": ItemFilter(people_none=["Tom Hanks"]),
    "combined": ItemFilter(year_min=1985, year_max=2005, genres_any=["action", "thriller"],
                           genres_none=["comedy"]),
}


@pytest.fixture(params=["memory", "chroma"])
def engine(request, small_index):
    """Both ways a filtered query runs: masks over the vector matrix, or Chroma's ``where``."""
    small_index.filter_engine = request.param
    yield request.param
    small_index.filter_engine = "memory"


@pytest.mark.parametrize("name", list(FILTERS))
def test_filters_hold_exactly_and_lose_nothing(small_index, name, engine):
    flt = FILTERS[name]
    text = "space exploration and time"
    hits = small_index.query(text, k=30, flt=flt)
    truth, matching = _brute_force(small_index, text, flt, 30)
    assert matching > 0, "the test filter should match something in the small catalog"
    # Exact: every hit satisfies the filter, checked here independently of ItemFilter.matches.
    for item_id, _ in hits:
        item = small_index._items[item_id]
        if flt.year_min is not None:
            assert item.year is not None and item.year >= flt.year_min
        if flt.year_max is not None:
            assert item.year is not None and item.year <= flt.year_max
        genres = _genres(small_index, item_id)
        assert all(label_key(g) in genres for g in flt.genres_all)
        assert not flt.genres_any or genres & {label_key(g) for g in flt.genres_any}
        assert not genres & {label_key(g) for g in flt.genres_none}
        people = {label_key(n) for _, n in item.people}
        assert not flt.people_any or people & {label_key(p) for p in flt.people_any}
        assert not people & {label_key(p) for p in flt.people_none}
    # Complete: as many hits as there are matching items (up to k), the best ones.
    assert len(hits) == min(30, matching)
    overlap = len({i for i, _ in hits} & set(truth)) / len(truth)
    assert overlap >= 0.9, (name, _titles(small_index, hits))
    if engine == "memory":  # exact scoring: the very same ranking as the brute force
        assert [i for i, _ in hits] == truth


def test_both_engines_agree_on_scores(small_index):
    flt = ItemFilter(year_min=1990, genres_any=["drama", "comedy"])
    small_index.filter_engine = "chroma"
    try:
        by_chroma = dict(small_index.query("friendship and loss", k=20, flt=flt))
    finally:
        small_index.filter_engine = "memory"
    by_memory = dict(small_index.query("friendship and loss", k=20, flt=flt))
    common = by_chroma.keys() & by_memory.keys()
    assert len(common) >= 18
    for item_id in common:
        assert by_memory[item_id] == pytest.approx(by_chroma[item_id], abs=1e-4)


def test_items_without_a_year_fail_year_bounds_but_pass_without_them(small_index, small_movies,
                                                                     engine):
    undated = [item.id for item in small_movies if item.year is None]
    assert undated, "the small catalog keeps a few undated movies"
    everything = {i for i, _ in small_index.query("movie", k=len(small_movies))}
    assert set(undated) <= everything
    for flt in (ItemFilter(year_max=2100), ItemFilter(year_min=1800)):
        hits = {i for i, _ in small_index.query("movie", k=len(small_movies), flt=flt)}
        assert not hits & set(undated)


def test_excluded_ids_never_come_back_and_k_is_still_filled(small_index, engine):
    first = small_index.query("funny animated movie for kids", k=10)
    exclude = {item_id for item_id, _ in first}
    again = small_index.query("funny animated movie for kids", k=10,
                              flt=ItemFilter(exclude_ids=exclude))
    assert len(again) == 10
    assert not exclude & {item_id for item_id, _ in again}


def test_an_unsatisfiable_filter_returns_nothing(small_index, engine):
    assert small_index.query("anything", k=10, flt=ItemFilter(year_min=2090)) == []
    assert small_index.query("anything", k=10, flt=ItemFilter(genres_all=["no such genre"])) == []


def test_query_vector_with_an_items_own_vector_finds_it_first(small_index, small_movies):
    heat = small_movies.find_title("Heat", 1995)[0]
    hits = small_index.query_vector(small_index.vector(heat.id), k=5)
    assert hits[0][0] == heat.id
    assert hits[0][1] == pytest.approx(1.0, abs=1e-4)


def test_vectors_are_aligned_unit_rows(small_index, small_movies):
    ids, matrix = small_index.vectors()
    assert sorted(ids) == sorted(small_movies.ids)
    assert matrix.dtype == np.float32 and matrix.shape == (len(ids), 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)
    assert not matrix.flags.writeable


def test_where_clause_speaks_chroma():
    assert where_clause(None) is None
    assert where_clause(ItemFilter()) is None
    assert where_clause(ItemFilter(genres_all=["Sci-Fi"])) == {"genres": {"$contains": "sci fi"}}
    clause = where_clause(ItemFilter(year_max=1999, genres_any=["a", "b"], people_none=["X Y"],
                                     exclude_ids={"1"}))
    assert clause == {"$and": [
        {"year": {"$lte": 1999}}, {"year": {"$gt": 0}},
        {"$or": [{"genres": {"$contains": "a"}}, {"genres": {"$contains": "b"}}]},
        {"people": {"$not_contains": "x y"}}]}


def test_masks_agree_with_item_filter_matches_on_random_filters(small_movies):
    import random

    from chatrec.catalog.masks import ConstraintMasks

    items = {item.id: item for item in small_movies}
    ids = [*small_movies.ids, "not-in-catalog"]
    masks = ConstraintMasks(ids, items)
    genres = sorted({g for item in small_movies for g in item.genres}) + ["Sci-Fi", "nope"]
    people = sorted({n for item in small_movies for _, n in item.people})[:200] + ["TOM HANKS"]
    rng = random.Random(7)
    for _ in range(300):
        flt = ItemFilter(
            year_min=rng.choice([None, 1950, 1990, 2005]),
            year_max=rng.choice([None, 1980, 1999, 2020]),
            genres_all=rng.sample(genres, rng.choice([0, 0, 1, 2])),
            genres_any=rng.sample(genres, rng.choice([0, 0, 2])),
            genres_none=rng.sample(genres, rng.choice([0, 1])),
            people_any=rng.sample(people, rng.choice([0, 0, 3])),
            people_none=rng.sample(people, rng.choice([0, 0, 1])),
            exclude_ids=set(rng.sample(small_movies.ids, rng.choice([0, 5]))))
        expected = [i in items and flt.matches(items[i]) for i in ids]
        assert masks.mask(flt).tolist() == expected, flt
