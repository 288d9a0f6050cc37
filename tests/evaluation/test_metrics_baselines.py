"""Ranking metrics, the classic baselines and the run directory, on small hand-made data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from chatrec.errors import ConfigError
from chatrec.evaluation import metrics as M
from chatrec.evaluation.baselines import ImplicitMF, ItemKNN, ItemSpace, Popularity
from chatrec.evaluation.offline import temporal_split
from chatrec.evaluation.run import RunDir


def test_rank_metrics_with_groups():
    ranked = ["a", "b", "c", "d"]
    assert M.rank_of(ranked, "c") == 3
    assert M.rank_of(ranked, frozenset({"z", "d", "b"})) == 2
    assert M.rank_of(ranked, "z") is None
    assert M.hit_at(ranked, "c", 2) == 0.0 and M.hit_at(ranked, "c", 3) == 1.0
    assert M.ndcg_at(ranked, "a", 10) == 1.0
    assert M.ndcg_at(ranked, "c", 10) == pytest.approx(1 / math.log2(4))
    assert M.recall_counts(ranked, ["a", "d", "z"], (1, 4)) == {1: 1, 4: 2}


def test_intervals_are_seeded_and_cover_the_mean():
    values = [1.0] * 30 + [0.0] * 70
    first, second = M.mean_ci(values, seed=3), M.mean_ci(values, seed=3)
    assert first == second
    mean, low, high = first
    assert mean == pytest.approx(0.3) and low < 0.3 < high
    ratio, low, high = M.ratio_ci([2, 2, 2, 2], [1, 1, 1, 1])
    assert ratio == 2.0 and low == high == 2.0


FRAME = pd.DataFrame(
    {
        "user_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u3", "u4"],
        "item_id": ["a", "b", "a", "b", "a", "c", "d", "d"],
        "rating": [5.0] * 8,
        "timestamp": [1, 2, 1, 2, 1, 2, 3, 1],
    }
)


def test_item_cosine_by_hand():
    space = ItemSpace(["a", "b", "c", "d", "e"])
    knn = ItemKNN(space).fit(FRAME)
    scores = knn.scores({"a": 1.0})
    # a: {u1,u2,u3}, b: {u1,u2} → 2/sqrt(3*2); c: {u3} → 1/sqrt(3); d: {u3,u4} → 1/sqrt(6)
    assert scores[space.index["b"]] == pytest.approx(2 / math.sqrt(6), rel=1e-5)
    assert scores[space.index["c"]] == pytest.approx(1 / math.sqrt(3), rel=1e-5)
    assert scores[space.index["d"]] == pytest.approx(1 / math.sqrt(6), rel=1e-5)
    assert scores[space.index["a"]] == 0.0
    # never the excluded, popularity breaks the tie of zero scores
    assert knn.rank({"a": 1.0}, 4, exclude={"a"}) == ["b", "c", "d", "e"]
    pruned = ItemKNN(space, neighbours=1).fit(FRAME)
    assert np.count_nonzero(pruned.scores({"a": 1.0})) == 1


def test_popularity_and_exclusion():
    space = ItemSpace(["a", "b", "c", "d"])
    pop = Popularity.from_frame(space, FRAME)
    assert pop.rank(2) == ["a", "b"] or pop.rank(2) == ["a", "d"]
    assert pop.rank(4, exclude={"a"})[0] in ("b", "d")
    assert "a" not in pop.rank(10, exclude={"a"}) and len(pop.rank(10, exclude={"a"})) == 3


def test_matrix_factorisation_repeats_for_a_seed():
    space = ItemSpace(["a", "b", "c", "d", "e"])
    one = ImplicitMF(space, "als", factors=4, iterations=5, seed=7).fit(FRAME).scores_for("u1")
    two = ImplicitMF(space, "als", factors=4, iterations=5, seed=7).fit(FRAME).scores_for("u1")
    assert np.allclose(one, two)
    assert (
        ImplicitMF(space, "als", factors=4, seed=7).fit(FRAME).rank("u1", 2, exclude={"a", "b"})[0]
        in "cde"
    )


def test_temporal_split_takes_the_last_two():
    train, validation, test = temporal_split(FRAME)
    assert dict(zip(test["user_id"], test["item_id"])) == {"u3": "d"}
    assert dict(zip(validation["user_id"], validation["item_id"])) == {"u3": "c"}
    # users with fewer than three ratings stay whole in train
    assert len(train) == 6 and set(train[train["user_id"] == "u3"]["item_id"]) == {"a"}


def test_run_dir_resumes_and_refuses_another_config(tmp_path):
    run = RunDir(tmp_path, "sim", {"seed": 1, "limit": 3})
    run.record("u1", {"hit": 1})
    run.record("u2", {"hit": 0})
    with open(tmp_path / "checkpoints" / "units.jsonl", "a") as handle:
        handle.write('{"key": "u3", "rec')  # killed mid-write
    again = RunDir(tmp_path, "sim", {"seed": 1, "limit": 10})  # limit may change
    assert again.done() == {"u1": {"hit": 1}, "u2": {"hit": 0}}
    with pytest.raises(ConfigError):
        RunDir(tmp_path, "sim", {"seed": 2})
    fresh = RunDir(tmp_path, "sim", {"seed": 2}, fresh=True)
    assert fresh.done() == {}
    path = fresh.write_results({"recall@10": 0.5}, {"git": {}})
    results = json.loads(path.read_text())
    assert (
        results["recall@10"] == 0.5
        and results["config"] == {"seed": 2}
        and "total" in results["timings_s"]
    )
