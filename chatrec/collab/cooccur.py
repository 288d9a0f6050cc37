"""Item–item co-rating similarity with precomputed neighbour lists.

"People who rated Toy Story also rated ...": an asymmetric cosine over the binarised rating
matrix, shrunk towards zero when few users rated both items. Fitting computes the top-M
neighbours of every item once (block by block, so memory stays bounded); a query is then a
weighted sum over the seeds' neighbour rows, a few hundred microseconds.

Why binarised: the agent seeds with items someone *mentioned* or liked, not with ratings, and on
a MovieLens leave-last-liked-out test the binarised variant ranked as well as the rating-weighted
one (HR@10 0.093 vs 0.098, inside the noise of 610 users) and better than the mean-centred one
(0.071). Why asymmetric (``alpha`` < 0.5): it divides more by the candidate's popularity, so Toy
Story's neighbours start with Toy Story 2 rather than with Forrest Gump, at no cost in accuracy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import numpy as np

from chatrec.collab.matrix import RatingMatrix

logger = logging.getLogger(__name__)


class CoRatingSimilarity:
    """Top-M co-rating neighbours per item.

    ``sim(i → j) = n_ij / (n_i^alpha · n_j^(1 - alpha)) · n_ij / (n_ij + shrinkage)`` where
    ``n_ij`` counts users who rated both items and ``n_i`` users who rated ``i``.

    Args:
        items: item ids, index order.
        neighbours: (n_items × M) int32, the M most similar items of each item, best first
            (padding: -1).
        weights: (n_items × M) float32, their similarities (padding: 0).

    Attributes:
        item_index: item id → row.
    """

    def __init__(self, items: np.ndarray, neighbours: np.ndarray, weights: np.ndarray):
        self.items = np.asarray(items, dtype=str)
        self.neighbours = np.asarray(neighbours, dtype=np.int32)
        self.weights = np.asarray(weights, dtype=np.float32)
        self.item_index: dict[str, int] = {t: i for i, t in enumerate(self.items.tolist())}

    @classmethod
    def fit(cls, matrix: RatingMatrix, n_neighbours: int = 100, shrinkage: float = 50.0,
            alpha: float = 0.3, block_size: int = 512) -> CoRatingSimilarity:
        """Compute every item's top ``n_neighbours`` neighbours.

        Args:
            matrix: the ratings (only who rated what is used).
            n_neighbours: M, neighbours kept per item.
            shrinkage: pseudo-count of co-raters; 50 keeps two-user coincidences out of the lists.
            alpha: exponent on the query item's count (0.5 is plain cosine).
            block_size: query items per dense block (memory ≈ 4 · block_size · n_items bytes × 3).
        """
        n = matrix.n_items
        m = min(n_neighbours, max(n - 1, 0))
        neighbours = np.full((n, m), -1, dtype=np.int32)
        weights = np.zeros((n, m), dtype=np.float32)
        if n == 0 or m == 0:
            return cls(matrix.items, neighbours, weights)
        users_items = matrix.binary().tocsc()
        items_users = users_items.T.tocsr()
        counts = np.asarray(users_items.sum(axis=0), dtype=np.float32).ravel()
        cand_norm = np.power(np.maximum(counts, 1.0), 1.0 - alpha)
        for start in range(0, n, block_size):
            end = min(n, start + block_size)
            overlap = (items_users[start:end] @ users_items).toarray().astype(np.float32)
            query_norm = np.power(np.maximum(counts[start:end], 1.0), alpha)[:, None]
            sim = overlap / query_norm / cand_norm[None, :] * (overlap / (overlap + shrinkage))
            sim[np.arange(end - start), np.arange(start, end)] = 0.0   # not its own neighbour
            top = np.argpartition(-sim, m - 1, axis=1)[:, :m]
            top_sim = np.take_along_axis(sim, top, axis=1)
            order = np.argsort(-top_sim, axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            top_sim = np.take_along_axis(top_sim, order, axis=1)
            top[top_sim <= 0] = -1
            top_sim[top_sim <= 0] = 0.0
            neighbours[start:end], weights[start:end] = top, top_sim
        logger.debug("co-rating neighbours: %d items × %d", n, m)
        return cls(matrix.items, neighbours, weights)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def neighbours_of(self, item_id: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most similar items of one item, best first (empty for an unknown item)."""
        row = self.item_index.get(str(item_id))
        if row is None:
            return []
        idx, sim = self.neighbours[row, :k], self.weights[row, :k]
        keep = idx >= 0
        return [(str(self.items[j]), float(s)) for j, s in zip(idx[keep], sim[keep], strict=True)]

    def similar(self, seeds: Mapping[str, float], k: int = 20,
                exclude: Iterable[str] = ()) -> dict[str, float]:
        """Items similar to weighted seeds, best first.

        Args:
            seeds: item id → weight (a liked item 1.0; a disliked one may be negative and then
                pushes its neighbours down). Unknown ids are ignored.
            k: how many items to return at most.
            exclude: ids never returned (seen, shown); the seeds themselves are never returned.

        Returns:
            item id → score, the seeds' weighted mean similarity (positive scores only), in
            descending order. Empty when no seed is known.
        """
        rows, wts = [], []
        for item_id, weight in seeds.items():
            row = self.item_index.get(str(item_id))
            if row is not None and weight:
                rows.append(row)
                wts.append(float(weight))
        if not rows or k <= 0 or self.neighbours.shape[1] == 0:
            return {}
        rows_arr = np.asarray(rows, dtype=np.int64)
        wts_arr = np.asarray(wts, dtype=np.float32)
        idx = self.neighbours[rows_arr]
        contrib = self.weights[rows_arr] * wts_arr[:, None]
        valid = idx >= 0
        scores = np.bincount(idx[valid], weights=contrib[valid], minlength=self.n_items)
        positive = float(wts_arr[wts_arr > 0].sum())
        if positive > 0:
            scores /= positive
        banned = [self.item_index[t] for t in map(str, exclude) if t in self.item_index]
        scores[rows_arr] = 0.0
        if banned:
            scores[np.asarray(banned, dtype=np.int64)] = 0.0
        return _top_positive(scores, self.items, k)

    # ---- persistence ----
    def to_arrays(self, prefix: str = "cooccur.") -> dict[str, np.ndarray]:
        return {f"{prefix}items": self.items, f"{prefix}neighbours": self.neighbours,
                f"{prefix}weights": self.weights}

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "cooccur.") -> CoRatingSimilarity:
        return cls(arrays[f"{prefix}items"], arrays[f"{prefix}neighbours"],
                   arrays[f"{prefix}weights"])


def _top_positive(scores: np.ndarray, ids: np.ndarray, k: int) -> dict[str, float]:
    """The ``k`` highest positive entries of a dense score vector as id → score, best first."""
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    # Ties broken by index so results repeat exactly.
    order = np.lexsort((candidates, -scores[candidates]))
    chosen = candidates[order]
    return {str(ids[j]): float(scores[j]) for j in chosen}
