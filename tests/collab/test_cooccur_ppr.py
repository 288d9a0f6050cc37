"""Co-rating neighbours and personalized PageRank on the real MovieLens ratings."""

from __future__ import annotations

import pytest

from chatrec.catalog.models import Catalog, Item
from chatrec.collab import fit, load_or_fit


def test_toy_story_neighbours_include_toy_story_2(models, ids):
    neighbours = dict(models.cooccur.neighbours_of(ids["toy story"], k=10))
    assert ids["toy story 2"] in neighbours
    assert ids["toy story"] not in neighbours
    assert all(score > 0 for score in neighbours.values())


def test_empire_strikes_back_is_the_nearest_neighbour_of_a_new_hope(models, ids):
    first, _ = models.cooccur.neighbours_of(ids["star wars 4"], k=1)[0]
    assert first == ids["star wars 5"]


def test_similar_never_returns_seeds_or_exclusions_and_is_sorted(models, ids):
    result = models.cooccur.similar({ids["toy story"]: 1.0}, k=30, exclude=[ids["toy story 2"]])
    assert len(result) == 30
    assert ids["toy story"] not in result and ids["toy story 2"] not in result
    scores = list(result.values())
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_a_disliked_seed_pushes_its_neighbours_down(models, ids):
    liked = {ids["toy story"]: 1.0}
    plain = models.cooccur.similar(liked, k=200)
    with_dislike = models.cooccur.similar({**liked, ids["star wars 4"]: -1.0}, k=200)
    assert ids["star wars 5"] in plain
    assert with_dislike.get(ids["star wars 5"], 0.0) < plain[ids["star wars 5"]]


def test_unknown_seeds_give_nothing(models):
    assert models.cooccur.similar({"no-such-item": 1.0}) == {}
    assert models.ppr.scores({"no-such-item": 1.0}) == {}
    assert models.ppr.scores({}, user_id="no-such-user") == {}


def test_ppr_from_a_new_hope_ranks_the_sequels_first(models, ids):
    top = list(models.ppr.scores({ids["star wars 4"]: 1.0}, k=5))
    assert ids["star wars 5"] in top and ids["star wars 6"] in top
    assert ids["star wars 4"] not in top


def test_ppr_scores_are_relative_to_the_best_and_respect_exclusions(models, ids):
    result = models.ppr.scores({ids["star wars 4"]: 1.0}, k=50, exclude=[ids["star wars 5"]])
    assert len(result) == 50 and ids["star wars 5"] not in result
    scores = list(result.values())
    assert scores[0] == pytest.approx(1.0) and scores == sorted(scores, reverse=True)


def test_ppr_with_a_user_recommends_nothing_they_already_rated(models):
    history = models.user_history("42")
    assert len(history) > 50
    result = models.ppr.scores({}, user_id="42", k=100)
    assert len(result) == 100
    assert not set(result) & set(history)
    # The user's walk differs from a pure popularity walk seeded elsewhere.
    assert list(result)[:10] != list(models.ppr.scores({}, user_id="1", k=10))


def test_debias_changes_the_ranking_towards_less_rated_items(models, ids):
    seeds = {ids["star wars 4"]: 1.0}
    plain = models.ppr.scores(seeds, k=20, debias=0.0)
    debiased = models.ppr.scores(seeds, k=20, debias=1.0)
    degree = {item: models.ppr.item_degree[models.matrix.item_index[item]] for item in
              {*plain, *debiased}}
    assert sum(degree[i] for i in debiased) < sum(degree[i] for i in plain)


def test_a_catalog_without_interactions_gives_empty_models(session_home):
    catalog = Catalog("no-ratings", [Item(id="a", title="A"), Item(id="b", title="B")])
    models = load_or_fit(catalog)
    assert models.is_empty
    assert models.cooccur.similar({"a": 1.0}) == {}
    assert models.ppr.scores({"a": 1.0}, user_id="u") == {}
    assert models.rating.predict("u", "a") is None
    assert fit(None).is_empty
