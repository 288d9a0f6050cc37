"""Classic recommenders the harnesses compare the agent with, on the same data in the same run.

The offline harness's baselines are library components, not our own code: LensKit's popularity,
item-kNN (implicit and explicit feedback) and implicit-feedback MF (``ImplicitMFScorer``), and
ALS and BPR from ``implicit`` through LensKit's bridge. ``LibraryBaseline`` wraps one of them
behind one small interface (``fit`` on an interactions frame, ``rank`` for a user), and
``SEARCH_SPACES`` says which hyper-parameters each may try, always including whether it learns
from every rating or only from ratings ≥ 4 (``train_on``).

``ItemSpace`` fixes one item order so exclusions and rankings are plain numpy. ``Popularity``
(ranking by given counts, e.g. recommendations in ReDial training dialogues) and ``ItemKNN``
(LensKit's implicit item-kNN from a few seed items, the "item-cosine" of the ReDial protocol)
serve the other harnesses.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: A rating at or above this counts as "liked" (MovieLens 0.5–5 stars).
LIKED = 4.0
#: Where each baseline may learn from: every rating, or ratings ≥ ``LIKED`` only.
TRAIN_ON = ("all", "liked")

#: Hyper-parameters each baseline may try (the harness draws the same budget from each).
SEARCH_SPACES: dict[str, dict[str, list[Any]]] = {
    "popularity": {"train_on": list(TRAIN_ON)},
    "item-knn-implicit": {"max_nbrs": [5, 10, 20, 50, 100, 200, 500], "train_on": list(TRAIN_ON)},
    "item-knn-explicit": {
        "max_nbrs": [10, 20, 50, 100, 200],
        "min_nbrs": [1, 2, 5],
        "train_on": list(TRAIN_ON),
    },
    "implicit-mf": {
        "embedding_size": [16, 32, 64, 128],
        "regularization": [0.01, 0.1, 1.0, 10.0],
        "weight": [5.0, 20.0, 40.0],
        "train_on": list(TRAIN_ON),
    },
    "als": {
        "factors": [16, 32, 64, 128],
        "regularization": [0.01, 0.1, 1.0, 10.0],
        "alpha": [1.0, 5.0, 20.0, 40.0],
        "train_on": list(TRAIN_ON),
    },
    "bpr": {
        "factors": [16, 32, 64, 128],
        "learning_rate": [0.005, 0.01, 0.05, 0.1],
        "regularization": [0.0001, 0.001, 0.01, 0.1],
        "iterations": [100, 300],
        "train_on": list(TRAIN_ON),
    },
}

#: Which library provides each baseline (written into results.json).
LIBRARY = {
    "popularity": "lenskit.basic.PopScorer",
    "item-knn-implicit": "lenskit.knn.ItemKNNScorer(feedback='implicit')",
    "item-knn-explicit": "lenskit.knn.ItemKNNScorer(feedback='explicit')",
    "implicit-mf": "lenskit.als.ImplicitMFScorer",
    "als": "implicit.cpu.als.AlternatingLeastSquares (via lenskit.implicit.ALS)",
    "bpr": "implicit.cpu.bpr.BayesianPersonalizedRanking (via lenskit.implicit.BPR)",
}


def _single_threaded() -> None:
    """One thread for LensKit, implicit and BLAS: the machines are shared, and implicit warns
    (and slows down) when BLAS runs its own threads next to it."""
    os.environ.setdefault("LK_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from lenskit.parallel import ensure_parallel_init

    ensure_parallel_init()


@contextlib.contextmanager
def _quiet():
    """Library chatter off while training and scoring: implicit's progress bars (written to
    stderr), OpenBLAS advice, LensKit's pandas deprecation warnings."""
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


class ItemSpace:
    """A fixed order of item ids.

    Args:
        ids: every rankable item id, in a stable order (the catalog's).
    """

    def __init__(self, ids: Sequence[str]):
        self.ids = [str(i) for i in ids]
        self.index = {item_id: row for row, item_id in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, ids: Iterable[str]) -> list[int]:
        return [self.index[i] for i in ids if i in self.index]

    def top(
        self,
        scores: np.ndarray,
        k: int,
        exclude: Iterable[str] = (),
        fallback: np.ndarray | None = None,
    ) -> list[str]:
        """The ``k`` best items by ``scores`` (NaN: not scored, ranked after every scored item),
        ties broken by ``fallback`` then by item order; never an excluded one."""
        values = np.asarray(scores, dtype=np.float64)
        tiebreak = np.zeros(len(self.ids)) if fallback is None else np.asarray(fallback, float)
        keys = np.where(np.isfinite(values), values, -np.inf)
        allowed = np.ones(len(self.ids), dtype=bool)
        allowed[self.rows(exclude)] = False
        k = min(k, int(allowed.sum()))
        if k <= 0:
            return []
        # Only the items tied with or above the k-th best need the full lexicographic sort.
        kth = np.partition(keys[allowed], -k)[-k]
        candidates = np.flatnonzero(allowed & (keys >= kth))
        order = np.lexsort((candidates, -tiebreak[candidates], -keys[candidates]))
        return [self.ids[r] for r in candidates[order[:k]]]


def train_rows(frame: pd.DataFrame, train_on: str) -> pd.DataFrame:
    """The rows a baseline learns from: every rating, or only the liked ones."""
    if train_on == "all":
        return frame
    if train_on == "liked":
        return frame.loc[frame["rating"].to_numpy() >= LIKED]
    raise ValueError(f"train_on must be one of {TRAIN_ON}, not {train_on!r}")


def lenskit_dataset(frame: pd.DataFrame):
    """A LensKit ``Dataset`` of an interactions frame (user_id, item_id, rating, timestamp)."""
    from lenskit.data import from_interactions_df

    columns = frame.loc[:, ["user_id", "item_id", "rating", "timestamp"]].rename(
        columns={"user_id": "user_id", "item_id": "item_id"}
    )
    return from_interactions_df(
        columns.reset_index(drop=True),
        user_col="user_id",
        item_col="item_id",
        rating_col="rating",
        timestamp_col="timestamp",
    )


def make_component(name: str, params: Mapping[str, Any], seed: int = 0) -> Any:
    """The LensKit component of baseline ``name`` with ``params`` (``train_on`` excluded)."""
    _single_threaded()
    params = {k: v for k, v in params.items() if k != "train_on"}
    if name == "popularity":
        from lenskit.basic import PopScorer

        return PopScorer(score="count")
    if name in ("item-knn-implicit", "item-knn-explicit"):
        from lenskit.knn import ItemKNNScorer

        feedback = "implicit" if name.endswith("implicit") else "explicit"
        return ItemKNNScorer(feedback=feedback, **params)
    if name == "implicit-mf":
        from lenskit.als import ImplicitMFScorer

        return ImplicitMFScorer(**params)
    if name == "als":
        from lenskit.implicit import ALS

        return ALS(random_state=seed, iterations=15, **params)
    if name == "bpr":
        from lenskit.implicit import BPR

        return BPR(random_state=seed, **params)
    raise ValueError(f"unknown baseline {name!r} (known: {', '.join(SEARCH_SPACES)})")


class LibraryBaseline:
    """One library recommender, trained on an interactions frame, ranking for known users.

    Args:
        name: a key of ``SEARCH_SPACES``.
        params: its hyper-parameters, ``train_on`` included ("all" by default).
        space: the item order of the rankings.
        seed: random state of the factorisation models (results repeat for a seed).

    Attributes:
        component: the fitted LensKit component (``component(query, items)`` scores items).
    """

    def __init__(self, name: str, params: Mapping[str, Any], space: ItemSpace, seed: int = 0):
        self.name = name
        self.params = dict(params)
        self.train_on = str(self.params.get("train_on", "all"))
        self.space = space
        self.seed = seed
        self.component = make_component(name, self.params, seed)
        self._items = None
        self._vocabulary = None
        self._rows = np.zeros(0, dtype=np.int64)
        self._histories: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._popularity = np.zeros(len(space))

    def fit(self, frame: pd.DataFrame) -> LibraryBaseline:
        """Learn from ``frame`` (filtered by ``train_on``)."""
        from lenskit.data import ItemList
        from lenskit.training import TrainingOptions

        rows = train_rows(frame, self.train_on)
        with _quiet():
            data = lenskit_dataset(rows)
            self.component.train(data, TrainingOptions(rng=self.seed))
        # Everything below talks to the model in its own item numbers: looking 9,700 string ids
        # up on every call cost more than the scoring itself.
        self._vocabulary = data.items
        item_ids = [str(i) for i in data.items.ids()]
        self._rows = np.asarray([self.space.index.get(i, -1) for i in item_ids], dtype=np.int64)
        self._items = ItemList(item_nums=np.arange(len(item_ids), dtype=np.int32),
                               vocabulary=data.items)
        numbers = data.items.numbers(rows["item_id"].astype(str).to_numpy(dtype=object))
        ratings = rows["rating"].to_numpy(dtype=np.float32)
        self._histories = {
            str(u): (numbers[idx], ratings[idx])
            for u, idx in rows.reset_index(drop=True).groupby("user_id", sort=False).indices.items()
        }
        self._popularity = np.zeros(len(self.space))
        counts = rows["item_id"].astype(str).value_counts()
        known = counts.index.map(lambda i: self.space.index.get(i, -1)).to_numpy()
        self._popularity[known[known >= 0]] = counts.to_numpy()[known >= 0]
        return self

    def _query(self, user_id: str):
        from lenskit.data import ItemList, RecQuery

        history = self._histories.get(str(user_id))
        if history is None:
            return RecQuery(user_id=str(user_id))
        numbers, ratings = history
        items = ItemList(item_nums=numbers, vocabulary=self._vocabulary, rating=ratings)
        return RecQuery(user_id=str(user_id), user_items=items)

    def scores(self, user_id: str) -> np.ndarray:
        """Scores of every item in ``space`` order for a training user (NaN: not scored)."""
        assert self._items is not None, "fit() first"
        with _quiet():
            if self.name == "popularity":  # the same for everyone: LensKit scores items alone
                result = self.component(self._items)
            else:
                result = self.component(self._query(user_id), self._items)
        values = result.scores()
        out = np.full(len(self.space), np.nan)
        if values is not None:
            known = self._rows >= 0
            out[self._rows[known]] = np.asarray(values, dtype=np.float64)[known]
        return out

    def rank(self, user_id: str, k: int, exclude: Iterable[str] = ()) -> list[str]:
        """The user's top ``k``, never an excluded item; items the model cannot score come last,
        by popularity in the training rows (so every list has ``k`` items)."""
        return self.space.top(self.scores(user_id), k, exclude, fallback=self._popularity)


class Popularity:
    """Most counted first (e.g. recommendations in ReDial training dialogues).

    Args:
        space: the item order.
        counts: item id → count.
    """

    name = "popularity"

    def __init__(self, space: ItemSpace, counts: Mapping[str, float]):
        self.space = space
        self.scores = np.zeros(len(space), dtype=np.float64)
        for item_id, count in counts.items():
            row = space.index.get(str(item_id))
            if row is not None:
                self.scores[row] = float(count)

    @classmethod
    def from_frame(cls, space: ItemSpace, frame: pd.DataFrame) -> Popularity:
        return cls(space, {str(k): float(v) for k, v in frame["item_id"].astype(str).value_counts().items()})

    def rank(self, k: int, exclude: Iterable[str] = ()) -> list[str]:
        return self.space.top(self.scores, k, exclude)


class ItemKNN:
    """Items like a few seed items: LensKit's implicit-feedback item-kNN (cosine over who
    interacted with what, summed over the seeds).

    Args:
        space: the item order.
        neighbours: how many of the seeds may vote for an item (LensKit's ``max_nbrs``); None:
            all of them (the plain "item-cosine").
    """

    name = "item-knn"
    ALL = 100_000

    def __init__(self, space: ItemSpace, neighbours: int | None = None):
        self.space = space
        self.neighbours = neighbours
        self.component = make_component(
            "item-knn-implicit", {"max_nbrs": neighbours or self.ALL}
        )
        self.popularity = np.zeros(len(space))
        self._items = None
        self._vocabulary = None
        self._rows = np.zeros(0, dtype=np.int64)

    def fit(self, frame: pd.DataFrame) -> ItemKNN:
        from lenskit.data import ItemList

        with _quiet():
            data = lenskit_dataset(frame)
            self.component.train(data)
        self.popularity = Popularity.from_frame(self.space, frame).scores
        # In the model's own item numbers: LensKit's scorer must never see an unknown item.
        self._vocabulary = data.items
        ids = [str(i) for i in data.items.ids()]
        self._rows = np.asarray([self.space.index.get(i, -1) for i in ids], dtype=np.int64)
        self._items = ItemList(item_nums=np.arange(len(ids), dtype=np.int32),
                               vocabulary=data.items)
        return self

    def scores(self, seeds: Mapping[str, float]) -> np.ndarray:
        """Σ cosine(seed, item) over the seeds (0 for an item no seed is similar to; seeds
        nobody interacted with are ignored)."""
        from lenskit.data import ItemList, RecQuery

        assert self._items is not None and self._vocabulary is not None, "fit() first"
        out = np.zeros(len(self.space))
        numbers = self._vocabulary.numbers(np.asarray([str(s) for s in seeds], dtype=object),
                                           missing="negative") if seeds else np.zeros(0, int)
        numbers = numbers[numbers >= 0]
        if not len(numbers):
            return out
        history = ItemList(item_nums=numbers, vocabulary=self._vocabulary)
        with _quiet():
            result = self.component(RecQuery(user_items=history), self._items)
        values = np.nan_to_num(np.asarray(result.scores(), dtype=np.float64), nan=0.0)
        known = self._rows >= 0
        out[self._rows[known]] = values[known]
        return out

    def rank(self, seeds: Mapping[str, float], k: int, exclude: Iterable[str] = ()) -> list[str]:
        """Top ``k`` by similarity to ``seeds``; popularity fills in when similarity runs out."""
        return self.space.top(self.scores(seeds), k, exclude, fallback=self.popularity)
