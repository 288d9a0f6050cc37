"""The rating predictor and its evaluation against baselines, on the real MovieLens ratings."""

from __future__ import annotations

import numpy as np

from chatrec.evaluation.rating import holdout_split, rating_table


def test_cold_users_and_unknown_items_get_no_prediction(models, ids):
    assert models.rating.predict("no-such-user", ids["heat"]) is None
    assert models.rating.predict("42", "no-such-item") is None
    assert models.rating.predict_for({}, ids["heat"]) is None


def test_a_prediction_comes_with_the_users_own_ratings_as_neighbours(models, ids):
    prediction = models.rating.predict("42", ids["heat"])
    assert prediction is not None
    assert 0.5 <= prediction.value <= 5.0 and 0.5 <= prediction.baseline <= 5.0
    history = models.user_history("42")
    assert prediction.neighbours and prediction.n_neighbours >= len(prediction.neighbours)
    for neighbour in prediction.neighbours:
        assert history[neighbour.item_id] == neighbour.rating
        assert neighbour.item_id != ids["heat"]
    sims = [n.similarity for n in prediction.neighbours]
    assert sims == sorted(sims, reverse=True) and sims[-1] > 0


def test_folding_in_follows_the_ratings_given(models, ids):
    liked = {ids["star wars 4"]: 5.0, ids["star wars 6"]: 5.0, ids["toy story"]: 4.5}
    hated = {item: 1.0 for item in liked}
    high = models.rating.predict_for(liked, ids["star wars 5"])
    low = models.rating.predict_for(hated, ids["star wars 5"])
    assert high is not None and low is not None
    assert high.value > 4.0 > low.value
    assert {n.item_id for n in high.neighbours} <= set(liked)


def test_predictor_beats_the_baselines_on_a_holdout(movielens):
    rows, info = rating_table(movielens.interactions, fraction=0.1, seed=0, max_users=150)
    rmse = {row.method: row.metrics["RMSE"] for row in rows}
    mae = {row.method: row.metrics["MAE"] for row in rows}
    assert info["coverage"] > 0.9
    for metric in (rmse, mae):
        assert metric["KNNBaseline (chatrec)"] < metric["baseline (μ + b_u + b_i)"]
        assert metric["baseline (μ + b_u + b_i)"] < min(metric["user mean"], metric["item mean"])
        assert max(metric["user mean"], metric["item mean"]) < metric["global mean"]


def test_the_holdout_is_per_user_seeded_and_disjoint_from_training(movielens):
    train, test = holdout_split(movielens.interactions, fraction=0.1, seed=0)
    again_train, again_test = holdout_split(movielens.interactions, fraction=0.1, seed=0)
    assert test.index.equals(again_test.index)
    assert len(train) + len(test) == len(movielens.interactions)
    per_user = test.groupby("user_id").size()
    totals = movielens.interactions.frame.groupby("user_id").size()
    assert (per_user >= 1).all() and len(per_user) == len(totals)
    share = per_user / totals[per_user.index]
    assert np.allclose(share.mean(), 0.1, atol=0.01)
    held = set(zip(test["user_id"], test["item_id"], strict=True))
    assert not held & set(zip(train.frame["user_id"], train.frame["item_id"], strict=True))
