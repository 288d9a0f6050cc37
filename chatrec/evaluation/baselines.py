"""Classic recommenders the harnesses compare the agent with, on the same data in the same run.

Each is small and has the LensKit shape: construct with its hyper-parameters, ``fit`` on
interactions, then score. All work over one fixed item order (``ItemSpace``) so that exclusions
and rankings are plain numpy.

* ``Popularity``: most rated (or, for ReDial, most recommended in the training dialogues).
* ``ItemKNN``: item–item cosine over binarised interactions; with ``neighbours=None`` the plain
  "item-cosine" baseline of the ReDial protocol.
* ``ImplicitMF``: matrix factorisation from the ``implicit`` package (ALS or BPR).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

logger = logging.getLogger(__name__)


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
        """The ``k`` best items by ``scores`` (ties and zero scores broken by ``fallback``, then
        by item order), never an excluded one."""
        values = np.asarray(scores, dtype=np.float64).copy()
        if fallback is not None:
            # A small tie-breaker: never reorders items with different scores.
            spread = float(np.abs(values).max()) if values.size else 0.0
            values += (1e-6 * max(spread, 1.0)) * (fallback / max(float(fallback.max()), 1e-12))
        banned = self.rows(exclude)
        if banned:
            values[banned] = -np.inf
        k = min(k, int(np.isfinite(values).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-values, k - 1)[:k]
        top = top[np.lexsort((top, -values[top]))]
        return [self.ids[r] for r in top]


def user_item_matrix(frame: pd.DataFrame, space: ItemSpace) -> tuple[sp.csr_matrix, dict[str, int]]:
    """Binarised users × items CSR matrix of an interactions frame; unknown items are dropped."""
    users = {u: i for i, u in enumerate(dict.fromkeys(frame["user_id"].astype(str)))}
    cols = frame["item_id"].astype(str).map(space.index)
    keep = cols.notna().to_numpy()
    rows = frame["user_id"].astype(str).map(users).to_numpy()[keep]
    data = np.ones(int(keep.sum()), dtype=np.float32)
    matrix = sp.csr_matrix(
        (data, (rows, cols[keep].astype(np.int64).to_numpy())),
        shape=(len(users), len(space)),
        dtype=np.float32,
    )
    matrix.data[:] = 1.0  # duplicates (a user rating one item twice) count once
    return matrix, users


class Popularity:
    """Most popular first.

    Args:
        space: the item order.
        counts: item id → count (ratings, or recommendations in training dialogues).
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
        return cls(space, frame["item_id"].astype(str).value_counts().to_dict())

    def rank(self, k: int, exclude: Iterable[str] = ()) -> list[str]:
        return self.space.top(self.scores, k, exclude)


class ItemKNN:
    """Item–item cosine similarity over who interacted with what.

    Args:
        space: the item order.
        neighbours: keep only each item's top-N neighbours (classic item-kNN); None keeps all
            (plain item-cosine).
        shrink: added to the cosine's denominator (damps pairs with few co-raters).
    """

    name = "item-knn"

    def __init__(self, space: ItemSpace, neighbours: int | None = None, shrink: float = 0.0):
        self.space = space
        self.neighbours = neighbours
        self.shrink = shrink
        self.similarity: sp.csr_matrix | None = None
        self.popularity = np.zeros(len(space))

    def fit(self, frame: pd.DataFrame) -> ItemKNN:
        matrix, _ = user_item_matrix(frame, self.space)
        counts = np.asarray(matrix.sum(axis=0)).ravel()
        self.popularity = counts.astype(np.float64)
        co = (matrix.T @ matrix).tocsr().astype(np.float32)
        co.setdiag(0)
        co.eliminate_zeros()
        norms = np.sqrt(counts).astype(np.float32)
        co = co.tocoo()
        values = co.data / (norms[co.row] * norms[co.col] + self.shrink)
        sim = sp.csr_matrix((values, (co.row, co.col)), shape=co.shape, dtype=np.float32)
        if self.neighbours is not None:
            sim = _prune_rows(sim, self.neighbours)
        self.similarity = sim
        return self

    def scores(self, seeds: Mapping[str, float]) -> np.ndarray:
        """Σ weight · sim(seed → item): the items most similar to the seeds."""
        assert self.similarity is not None, "fit() first"
        vector = np.zeros(len(self.space), dtype=np.float32)
        for item_id, weight in seeds.items():
            row = self.space.index.get(str(item_id))
            if row is not None:
                vector[row] += weight
        return np.asarray(self.similarity.T @ vector).ravel()

    def rank(self, seeds: Mapping[str, float], k: int, exclude: Iterable[str] = ()) -> list[str]:
        """Top ``k`` by similarity to ``seeds``; popularity fills in when similarity runs out."""
        return self.space.top(self.scores(seeds), k, exclude, fallback=self.popularity)


def _prune_rows(matrix: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Keep the ``keep`` largest entries of each row."""
    matrix = matrix.tocsr()
    rows, cols, vals = [], [], []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if end == start:
            continue
        data = matrix.data[start:end]
        idx = matrix.indices[start:end]
        if end - start > keep:
            best = np.argpartition(-data, keep - 1)[:keep]
            data, idx = data[best], idx[best]
        rows.append(np.full(len(idx), row))
        cols.append(idx)
        vals.append(data)
    if not rows:
        return sp.csr_matrix(matrix.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=matrix.shape,
        dtype=np.float32,
    )


class ImplicitMF:
    """Matrix factorisation from ``implicit`` (ALS or BPR) on binarised interactions.

    Args:
        space: the item order.
        model: "als" or "bpr".
        factors, regularization, iterations: the usual; ``alpha`` scales ALS confidence;
            ``learning_rate`` is BPR's.
        seed: the random state (results repeat for a seed).
    """

    def __init__(
        self,
        space: ItemSpace,
        model: str = "als",
        factors: int = 64,
        regularization: float = 0.05,
        iterations: int = 15,
        alpha: float = 1.0,
        learning_rate: float = 0.05,
        seed: int = 0,
    ):
        self.space = space
        self.kind = model
        self.name = f"mf-{model}"
        self.params = {
            "factors": factors,
            "regularization": regularization,
            "iterations": iterations,
        }
        if model == "als":
            self.params["alpha"] = alpha
        else:
            self.params["learning_rate"] = learning_rate
        self.seed = seed
        self.model = None
        self.users: dict[str, int] = {}
        self.matrix: sp.csr_matrix | None = None

    def fit(self, frame: pd.DataFrame) -> ImplicitMF:
        from threadpoolctl import threadpool_limits

        matrix, users = user_item_matrix(frame, self.space)
        # implicit warns (and slows down) when BLAS runs its own threads next to it.
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*OpenBLAS is configured.*")
            if self.kind == "als":
                from implicit.cpu.als import AlternatingLeastSquares

                model = AlternatingLeastSquares(
                    random_state=self.seed, num_threads=1, **self.params
                )
            elif self.kind == "bpr":
                from implicit.cpu.bpr import BayesianPersonalizedRanking

                model = BayesianPersonalizedRanking(
                    random_state=self.seed, num_threads=1, **self.params
                )
            else:
                raise ValueError(f"unknown matrix factorisation model {self.kind!r}")
            model.fit(matrix, show_progress=False)
        self.model, self.users, self.matrix = model, users, matrix
        return self

    def scores_for(self, user_id: str) -> np.ndarray:
        row = self.users.get(str(user_id))
        if row is None or self.model is None:
            return np.zeros(len(self.space))
        return np.asarray(self.model.item_factors @ self.model.user_factors[row]).ravel()

    def rank(self, user_id: str, k: int, exclude: Iterable[str] = ()) -> list[str]:
        return self.space.top(self.scores_for(user_id), k, exclude)
