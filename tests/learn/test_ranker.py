"""The LambdaRank trainer learns what decides relevance, deterministically, with early stopping
and importances; the quality prior puts known films first for open requests only."""

from __future__ import annotations

import numpy as np

from chatrec.agent.models import Constraints
from chatrec.agent.retrieve import RetrievalQuery, Signals
from chatrec.learn.features import FEATURES
from chatrec.learn.ranker import (
    BoosterBag,
    PriorRanker,
    TrainingGroup,
    is_open,
    train_bag,
    train_lambdarank,
)


def _groups(n_groups: int = 300, size: int = 40, seed: int = 1) -> list[TrainingGroup]:
    rng = np.random.default_rng(seed)
    signal = FEATURES.index("collab.score")
    groups = []
    for g in range(n_groups):
        x = rng.random((size, len(FEATURES))).astype(np.float32)
        labels = np.zeros(size, dtype=np.float32)
        labels[int(np.argmax(x[:, signal]))] = 1.0
        groups.append(TrainingGroup(f"g{g}", x, labels))
    return groups


def test_lambdarank_learns_the_deciding_feature_deterministically():
    groups = _groups()
    booster, report = train_lambdarank(groups, seed=0)
    assert next(iter(report["feature_importance_gain"])) == "collab.score"
    assert report["groups"]["validation"] > 0 and report["validation"]["ndcg@10"] > 0.8
    assert 1 <= report["best_iteration"] <= 400
    # a fresh group: the film with the best collab score comes first
    fresh = _groups(5, seed=7)
    hits = sum(g.labels[int(np.argmax(np.asarray(booster.predict(g.features))))] == 1.0 for g in fresh)
    assert hits >= 4
    again, _ = train_lambdarank(groups, seed=0)
    assert booster.model_to_string() == again.model_to_string()


def test_a_bag_averages_its_seeds_and_survives_its_text_form():
    groups = _groups(200)
    bag, report = train_bag(groups, seed=3, bag=3, rounds=30, patience=None)
    assert len(bag.boosters) == 3 and report["bag"]["seeds"] == [3, 4, 5]
    assert report["groups"]["validation"] == 0      # fixed rounds on every ranking
    fresh = _groups(5, seed=7)[0].features
    each = [np.asarray(b.predict(fresh)) for b in bag.boosters]
    # different seeds bag different rows and features: the boosters differ, the bag is their mean
    assert not np.allclose(each[0], each[1])
    assert np.allclose(bag.predict(fresh), np.mean(each, axis=0))
    again = BoosterBag.from_string(bag.to_string())
    assert np.array_equal(again.predict(fresh), bag.predict(fresh))
    # a single model's text (what the build stored before bags) reads as a bag of one
    single = BoosterBag.from_string(bag.boosters[0].model_to_string())
    assert np.array_equal(single.predict(fresh), each[0])
    # deterministic: the same seed gives the same bag
    same, _ = train_bag(groups, seed=3, bag=3, rounds=30, patience=None)
    assert same.to_string() == bag.to_string()
    assert next(iter(report["feature_importance_gain"])) == "collab.score"


def test_fixed_rounds_with_a_holdout_report_its_scores():
    _, report = train_lambdarank(_groups(200), seed=0, rounds=20, patience=None, holdout=True)
    assert report["best_iteration"] == 20 and report["groups"]["validation"] > 0
    assert report["validation"]["ndcg@10"] > 0.5


class _Priors:
    def __init__(self, counts):
        self.counts = np.asarray(counts, dtype=np.float32)
        self.well_known = self.counts >= 10
        self.known = self.well_known
        self.has_counts = True
        self.quality = np.log1p(self.counts) / np.log1p(self.counts.max())
        self.gem = -self.quality   # ranked by the gem prior alone: the least known first


class _Builder:
    def __init__(self, counts):
        self.priors = _Priors(counts)


def test_quality_prior_known_films_first_unless_obscure_is_asked():
    builder = _Builder([1, 2, 500, 40, 3])
    fused = np.array([0.9, 0.8, 0.1, 0.2, 0.7], dtype=np.float32)
    signals = Signals(mask=np.ones(5, dtype=bool), per_source={}, fused=fused)
    ranker = PriorRanker(builder)  # type: ignore[arg-type]
    open_query = RetrievalQuery(text="a horror comedy")
    assert is_open(open_query)
    rows, _ = ranker.order(open_query, signals, 3)
    assert set(rows[:2]) == {2, 3}  # the two well-known films, whatever the fusion said
    obscure = RetrievalQuery(text="a horror comedy", refinements=["obscure"])
    rows, _ = ranker.order(obscure, signals, 2)
    assert 2 not in rows
    personal = RetrievalQuery(seeds={"x": 1.0}, constraints=Constraints())
    rows, _ = ranker.order(personal, signals, 1)
    assert rows[0] == 0  # a personal request keeps the fusion's first


def test_films_recommenders_often_suggest_count_as_known_for_open_requests():
    from chatrec.agent.table import ItemTable
    from chatrec.catalog.models import Catalog, Item
    from chatrec.learn.dialogue_stats import DialogueStats
    from chatrec.learn.features import FeatureBuilder
    from chatrec.learn.models import KNOWN_MENTIONS, LearntModels

    items = [Item(id="rated", title="Rated By Many", popularity=50, mean_rating=3.5),
             Item(id="new", title="Too New To Be Rated", popularity=1, mean_rating=4.0),
             Item(id="once", title="Suggested Once", popularity=1, mean_rating=4.0)]
    builder = FeatureBuilder(ItemTable(Catalog("films", items), kg=None))
    stats = DialogueStats()
    stats.recommended.update({"new": KNOWN_MENTIONS, "once": 1})
    ranker = LearntModels("films", stats).ranker(builder)
    assert builder.priors.known.tolist() == [True, True, False]
    assert builder.priors.well_known.tolist() == [True, False, False]  # the feature is unchanged
    fused = np.array([0.1, 0.2, 0.9], dtype=np.float32)
    signals = Signals(mask=np.ones(3, dtype=bool), per_source={}, fused=fused)
    rows, _ = ranker.order(RetrievalQuery(text="something fun"), signals, 3)
    assert rows[-1] == 2  # the film suggested once comes after both known films


def test_the_gem_prior_prefers_well_rated_little_known_films_to_unrated_and_famous_ones(ml_catalog):
    """"Hidden gems": a film a dozen people rated highly beats the most rated film and the films
    one or two people rated, whatever those one or two said."""
    from chatrec.agent.table import ItemTable
    from chatrec.learn.features import ItemPriors

    priors = ItemPriors(ItemTable(ml_catalog, None))
    counts, means = priors.counts, ml_catalog.mean_rating_array()
    famous = int(np.argmax(counts))
    gems = np.flatnonzero((counts >= 10) & (counts <= 20) & (np.nan_to_num(means) >= 4.0))
    unrated = np.flatnonzero((counts >= 1) & (counts <= 2))
    assert len(gems) and len(unrated)
    best_gem = float(priors.gem[gems].max())
    assert best_gem > priors.gem[famous]
    assert best_gem > float(priors.gem[unrated].max())
