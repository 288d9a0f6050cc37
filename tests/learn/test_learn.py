"""``learn`` end to end on a small MovieLens catalog: held-out interactions train a LambdaRank
ranker that the agent then uses by default; stored models are reloaded only for the same data."""

from __future__ import annotations

import pandas as pd
import pytest

from chatrec.learn import LearntModels, learn, load_learnt
from chatrec.learn.models import data_key, learnt_dir
from chatrec.learn.ranker import LearntRanker, PriorRanker, validation_group
from chatrec.learn.training import CUT_MARK, holdout_last_liked, holdout_liked


def test_holdout_removes_the_last_liked_film_and_what_followed(small_catalog):
    frame = small_catalog.interactions.frame
    reduced, targets = holdout_last_liked(frame)
    user, item = next(iter(targets.items()))
    history = frame[frame["user_id"] == user]
    cut = history[history["item_id"] == item]["timestamp"].iloc[0]
    kept = reduced[reduced["user_id"] == user]
    assert item not in set(kept["item_id"]) and (kept["timestamp"] < cut).all()
    assert float(history[history["item_id"] == item]["rating"].iloc[0]) >= 4.0


def test_a_cut_further_back_holds_out_that_liked_film_and_everything_after_it():
    # user a: liked x1, x2, (disliked y), x3, x4; user b has too few liked films before a cut
    frame = pd.DataFrame({
        "user_id": ["a"] * 5 + ["b"] * 3,
        "item_id": ["x1", "x2", "y", "x3", "x4", "z1", "z2", "z3"],
        "rating": [5.0, 4.0, 1.0, 4.5, 5.0, 5.0, 5.0, 1.0],
        "timestamp": [1, 2, 3, 4, 5, 1, 2, 3],
    })
    liked = frame["rating"] >= 4
    reduced, targets = holdout_liked(frame, liked, back=0)
    assert targets == {"a": "x4"}
    assert set(reduced["item_id"]) == {"x1", "x2", "y", "x3", "z1", "z2", "z3"}
    reduced, targets = holdout_liked(frame, liked, back=1)
    assert targets == {"a": "x3"}
    assert list(reduced[reduced["user_id"] == "a"]["item_id"]) == ["x1", "x2", "y"]
    assert holdout_liked(frame, liked, back=2)[1] == {}     # x2 has one liked film before it


def test_a_users_rankings_from_every_cut_fall_on_one_side_of_early_stopping():
    users = [f"user:{u}" for u in range(200)]
    for user in users:
        sides = {validation_group(user if back == 0 else f"{user}{CUT_MARK}{back}") for back in range(4)}
        assert len(sides) == 1
    assert 0 < sum(validation_group(u) for u in users) < len(users)


@pytest.fixture(scope="module")
def learnt(small_resources):
    return learn(small_resources, seed=0)


def test_learnt_ranker_from_interactions(learnt, small_resources):
    assert learnt.ranker_model is not None
    report = learnt.report
    assert report["ranker"]["model"] == "LightGBM LambdaRank"
    assert "held out" in report["components"][0]["learnt_from"]
    assert report["ranker"]["feature_importance_gain"]
    # several cuts per user, every ranking trained on (a fixed number of rounds)
    groups = report["ranker"]["groups"]
    assert groups["train"] == groups["with_positive"] > 0 and groups["validation"] == 0
    assert groups["total"] > len(small_resources.catalog.interactions.user_ids)


def test_agent_uses_what_was_learnt_and_ablation_leaves_it_out(learnt, small_resources):
    from chatrec.agent import Agent

    agent = Agent(small_resources, store=None, llm=None, learnt=learnt)
    assert isinstance(agent.retriever.ranker, LearntRanker)
    # learnt from histories only: an open request keeps the fusion with the quality prior
    assert isinstance(agent.retriever.ranker.open_fallback, PriorRanker)
    reply = agent.respond("s", "I loved The Matrix, something similar?")
    assert len(reply.recommendations) == 5
    assert "retrieve.ranker" in reply.trace.timings_ms
    ranked = agent.rank("s", k=50)
    assert len(ranked) == 50 and len({r.item.id for r in ranked}) == 50
    base = Agent(small_resources, store=None, llm=None, learnt=False)
    assert isinstance(base.retriever.ranker, PriorRanker)


def test_stored_models_are_used_only_for_the_same_data(learnt, small_resources, tmp_path):
    catalog = small_resources.catalog
    learnt.report["key"] = data_key(catalog, None)
    folder = learnt_dir(small_resources.settings, catalog)
    learnt.save(folder)
    again = load_learnt(catalog, small_resources.settings)
    assert isinstance(again, LearntModels) and again.ranker_model == learnt.ranker_model
    assert load_learnt(catalog, small_resources.settings, dialogues_digest="other") is None
