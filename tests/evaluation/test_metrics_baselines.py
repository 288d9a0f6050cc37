"""Ranking metrics, the library baselines, the split, the paired bootstrap and the run directory,
on small hand-made data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from chatrec.errors import ConfigError
from chatrec.evaluation import metrics as M
from chatrec.evaluation.baselines import SEARCH_SPACES, ItemKNN, ItemSpace, LibraryBaseline, Popularity
from chatrec.evaluation.heldout import temporal_split
from chatrec.evaluation.offline import summarise_split, trials
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
    assert scores[space.index["e"]] == 0.0  # never rated: no neighbour
    # never the excluded, popularity breaks the tie of zero scores
    assert knn.rank({"a": 1.0}, 4, exclude={"a"}) == ["b", "c", "d", "e"]
    # several seeds add up; with one neighbour only the most similar seed votes
    both = knn.scores({"a": 1.0, "c": 1.0})
    assert both[space.index["d"]] == pytest.approx(1 / math.sqrt(6) + 1 / math.sqrt(2), rel=1e-5)
    one = ItemKNN(space, neighbours=1).fit(FRAME).scores({"a": 1.0, "c": 1.0})
    assert one[space.index["d"]] == pytest.approx(1 / math.sqrt(2), rel=1e-5)
    # seeds nobody rated (or outside the catalog) are ignored, alone or among known ones
    assert not knn.scores({"e": 1.0, "zz": 1.0}).any()
    assert np.allclose(knn.scores({"a": 1.0, "e": 1.0, "zz": 1.0}), scores)


def test_popularity_and_exclusion():
    space = ItemSpace(["a", "b", "c", "d"])
    pop = Popularity.from_frame(space, FRAME)
    assert pop.rank(2) == ["a", "b"] or pop.rank(2) == ["a", "d"]
    assert pop.rank(4, exclude={"a"})[0] in ("b", "d")
    assert "a" not in pop.rank(10, exclude={"a"}) and len(pop.rank(10, exclude={"a"})) == 3


def test_top_puts_unscored_items_last_and_breaks_ties():
    space = ItemSpace(["a", "b", "c", "d", "e"])
    scores = np.array([0.5, np.nan, 0.5, 0.9, np.nan])
    fallback = np.array([1.0, 5.0, 2.0, 0.0, 1.0])
    assert space.top(scores, 5, fallback=fallback) == ["d", "c", "a", "b", "e"]
    assert space.top(scores, 2, exclude={"d"}, fallback=fallback) == ["c", "a"]
    assert space.top(scores, 9, exclude={"a", "b", "c", "d", "e"}) == []


RATINGS = pd.DataFrame(
    {
        "user_id": [f"u{u}" for u in range(12) for _ in range(4)],
        "item_id": [f"i{(u + j) % 7}" for u in range(12) for j in range(4)],
        "rating": [5.0, 4.0, 2.0, 4.5] * 12,
        "timestamp": list(range(48)),
    }
)


@pytest.mark.parametrize("name", list(SEARCH_SPACES))
def test_every_library_baseline_ranks_unrated_items(name):
    space = ItemSpace([f"i{i}" for i in range(9)])  # i7, i8: nobody rated them
    params = {key: values[0] for key, values in SEARCH_SPACES[name].items()}
    params["train_on"] = "liked"
    baseline = LibraryBaseline(name, params, space, seed=3).fit(RATINGS)
    rated = set(RATINGS[RATINGS["user_id"] == "u1"]["item_id"])
    ranked = baseline.rank("u1", 5, exclude=rated)
    assert len(ranked) == 5 and not set(ranked) & rated
    assert set(ranked) <= set(space.ids)
    again = LibraryBaseline(name, params, space, seed=3).fit(RATINGS).rank("u1", 5, rated)
    assert again == ranked  # seeded: a rerun ranks the same


def test_train_on_liked_learns_from_ratings_of_four_or_more():
    space = ItemSpace([f"i{i}" for i in range(7)])
    pop = LibraryBaseline("popularity", {"train_on": "liked"}, space).fit(RATINGS)
    liked = RATINGS[RATINGS["rating"] >= 4.0]["item_id"].value_counts()
    scores = pop.scores("anyone")
    for item_id, count in liked.items():
        assert scores[space.index[item_id]] == count
    everything = LibraryBaseline("popularity", {"train_on": "all"}, space).fit(RATINGS)
    assert everything.scores("anyone")[space.index["i2"]] == (RATINGS["item_id"] == "i2").sum()
    with pytest.raises(ValueError):
        LibraryBaseline("popularity", {"train_on": "most"}, space).fit(RATINGS)


def test_trials_are_a_seeded_draw_of_the_same_budget():
    for name, space in SEARCH_SPACES.items():
        assert "train_on" in space  # every baseline may choose what it learns from
        drawn = trials(name, 6, seed=0)
        assert len(drawn) == min(6, math.prod(len(v) for v in space.values()))
        assert drawn == trials(name, 6, seed=0)
        assert all(set(t) == set(space) for t in drawn)
        assert len({json.dumps(t, sort_keys=True) for t in drawn}) == len(drawn)
    assert trials("popularity", 16, seed=0) == [{"train_on": "all"}, {"train_on": "liked"}]
    assert trials("als", 6, seed=0) != trials("als", 6, seed=1)


def test_split_holds_out_the_last_two_liked_ratings():
    frame = pd.DataFrame(
        {
            "user_id": ["u1"] * 5 + ["u2"] * 3 + ["u3"] * 3,
            "item_id": ["a", "b", "c", "d", "e", "a", "b", "c", "x", "y", "z"],
            "rating": [5.0, 4.0, 4.5, 2.0, 1.0, 5.0, 3.0, 2.0, 4.0, 4.0, 4.0],
            "timestamp": [1, 2, 3, 4, 5, 1, 2, 3, 7, 7, 7],
        }
    )
    split = temporal_split(frame)
    # u1: liked a, b, c (d, e are later but not liked); u2: one liked rating → not evaluated;
    # u3: three liked ratings at the same second → item id breaks the tie
    assert split.truth("test") == {"u1": "c", "u3": "z"}
    assert split.truth("validation") == {"u1": "b", "u3": "y"}
    assert split.users() == ["u1", "u3"]
    train = set(zip(split.train["user_id"], split.train["item_id"]))
    assert train == {("u1", "a"), ("u1", "d"), ("u1", "e"), ("u2", "a"), ("u2", "b"),
                     ("u2", "c"), ("u3", "x")}
    test_log = set(zip(*(split.learn_from("test")[c] for c in ("user_id", "item_id"))))
    assert test_log == train | {("u1", "b"), ("u3", "y")}
    assert split.learn_from("validation") is split.train


def test_paired_bootstrap_ratio_and_best_baseline():
    users = 50
    baseline = [1.0 if u % 5 == 0 else 0.0 for u in range(users)]
    per_user = {
        "agent": {"ndcg@10": [2 * v for v in baseline], "hr@10": baseline},
        "weak": {"ndcg@10": [v / 2 for v in baseline], "hr@10": baseline},
        "strong": {"ndcg@10": baseline, "hr@10": baseline},
    }
    summary = summarise_split(per_user, resamples=300, seed=0)
    ratio = summary["ratio_ndcg@10"]
    # the same users are resampled for both systems: a per-user doubling is exactly 2×
    assert ratio["baseline"] == "strong" and ratio["ratio"] == ratio["ci_low"] == ratio["ci_high"] == 2.0
    assert summary["ratio_hr@10"]["ratio"] == 1.0
    assert summary["ratio_ndcg@10_each"]["weak"]["ratio"] == 4.0
    strong = summary["systems"]["strong"]["ndcg@10"]
    assert strong["ci_low"] < strong["mean"] == 0.2 < strong["ci_high"]
    assert summarise_split(per_user, resamples=300, seed=0) == summary


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
