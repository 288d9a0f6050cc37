"""Implicit-feedback matrix factorisation (``chatrec.collab.factors``): fitted on liked ratings
only, folded in from seeds, repeatable for a seed, stored and reloaded exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chatrec.catalog.models import Interactions
from chatrec.collab import CollaborativeModels, fit
from chatrec.collab.factors import FactorsConfig, ImplicitFactors
from chatrec.collab.matrix import RatingMatrix

# Two taste groups: u0–u5 like a, b, c; u6–u11 like x, y, z; everyone rated d low.
GROUPS = {"abc": ["a", "b", "c"], "xyz": ["x", "y", "z"]}
ROWS = [
    (f"u{u}", item, 5.0 if item != "d" else 1.0, 0)
    for u in range(12)
    for item in (GROUPS["abc"] if u < 6 else GROUPS["xyz"]) + ["d"]
]
MATRIX = RatingMatrix.from_interactions(
    Interactions(pd.DataFrame(ROWS, columns=["user_id", "item_id", "rating", "timestamp"]))
)
SMALL = FactorsConfig(factors=4, regularization=0.1, alpha=5.0, iterations=20)


def test_folding_in_a_taste_finds_the_rest_of_the_group():
    factors = ImplicitFactors.fit(MATRIX, SMALL)
    scores = factors.scores({"a": 1.0, "b": 1.0}, k=10)
    assert list(scores)[0] == "c"  # the group's third film first
    assert "a" not in scores and "b" not in scores  # never the seeds
    assert scores["c"] > scores.get("x", 0.0)
    assert "c" not in factors.scores({"a": 1.0}, k=10, exclude={"c"})


def test_low_ratings_are_not_likes_and_unknown_seeds_answer_nothing():
    factors = ImplicitFactors.fit(MATRIX, SMALL)
    # d was rated by everyone, but only with 1 star: it is nobody's positive
    assert factors.scores({"d": 1.0}, k=10) == {}
    assert factors.scores({"no such film": 1.0, "a": -1.0}, k=10) == {}
    empty = ImplicitFactors.fit(RatingMatrix.empty(), SMALL)
    assert empty.is_empty and empty.scores({"a": 1.0}) == {}


def test_fits_repeat_for_a_seed_and_survive_a_round_trip():
    one = ImplicitFactors.fit(MATRIX, SMALL)
    two = ImplicitFactors.fit(MATRIX, SMALL)
    assert np.array_equal(one.item_factors, two.item_factors)
    again = ImplicitFactors.from_arrays(one.to_arrays())
    assert again.config == SMALL
    assert again.scores({"x": 1.0}, k=5) == one.scores({"x": 1.0}, k=5)


@pytest.mark.usefixtures("data_dir")
def test_movielens_factors_ride_with_the_collaborative_models(models, ids):
    reloaded = CollaborativeModels.from_arrays(models.to_arrays())
    seeds = {ids["star wars 4"]: 1.0}
    top = models.factors.scores(seeds, k=20)
    assert ids["star wars 5"] in top
    assert reloaded.factors.scores(seeds, k=20) == top
    assert fit(None).factors.scores(seeds) == {}
