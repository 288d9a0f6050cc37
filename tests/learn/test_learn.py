"""``learn`` end to end on a small MovieLens catalog: held-out interactions train a LambdaRank
ranker that the agent then uses by default; stored models are reloaded only for the same data."""

from __future__ import annotations

import pytest

from chatrec.learn import LearntModels, learn, load_learnt
from chatrec.learn.models import data_key, learnt_dir
from chatrec.learn.ranker import LearntRanker, PriorRanker
from chatrec.learn.training import holdout_last_liked


def test_holdout_removes_the_last_liked_film_and_what_followed(small_catalog):
    frame = small_catalog.interactions.frame
    reduced, targets = holdout_last_liked(frame)
    user, item = next(iter(targets.items()))
    history = frame[frame["user_id"] == user]
    cut = history[history["item_id"] == item]["timestamp"].iloc[0]
    kept = reduced[reduced["user_id"] == user]
    assert item not in set(kept["item_id"]) and (kept["timestamp"] < cut).all()
    assert float(history[history["item_id"] == item]["rating"].iloc[0]) >= 4.0


@pytest.fixture(scope="module")
def learnt(small_resources):
    return learn(small_resources, seed=0)


def test_learnt_ranker_from_interactions(learnt, small_resources):
    assert learnt.ranker_model is not None
    report = learnt.report
    assert report["ranker"]["model"] == "LightGBM LambdaRank"
    assert "held out" in report["components"][0]["learnt_from"]
    assert report["ranker"]["feature_importance_gain"]
    assert report["ranker"]["groups"]["validation"] > 0


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
