"""The user × item rating matrix every collaborative model is fitted on.

Ids stay strings at the boundary (``Interactions`` speaks the source's ids); inside, users and
items are dense integer indices into a CSR matrix so that per-turn work is array arithmetic.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from chatrec.catalog.models import Interactions

logger = logging.getLogger(__name__)


class RatingMatrix:
    """Ratings as a sparse users × items matrix plus the id ↔ index maps.

    When a user rated an item several times, the latest rating counts (MovieLens has none, custom
    catalogs may).

    Args:
        users: user ids, index order.
        items: item ids, index order.
        ratings: CSR matrix (len(users) × len(items)) of float32 ratings; stored zeros do not occur
            because a rating of 0 is kept as a tiny positive value (0 means "not rated" in
            sparse form).

    Attributes:
        user_index: user id → row.
        item_index: item id → column.
    """

    def __init__(self, users: np.ndarray, items: np.ndarray, ratings: sp.csr_matrix):
        self.users = np.asarray(users, dtype=str)
        self.items = np.asarray(items, dtype=str)
        self.ratings = sp.csr_matrix(ratings, dtype=np.float32, copy=True)
        self.ratings.sort_indices()
        self.user_index: dict[str, int] = {u: i for i, u in enumerate(self.users.tolist())}
        self.item_index: dict[str, int] = {t: i for i, t in enumerate(self.items.tolist())}

    @classmethod
    def from_interactions(cls, interactions: Interactions | None) -> RatingMatrix:
        """Build the matrix; ``None`` or no rows gives an empty matrix (0 × 0)."""
        if interactions is None or len(interactions) == 0:
            return cls.empty()
        frame = interactions.frame.sort_values("timestamp", kind="stable")
        frame = frame.drop_duplicates(["user_id", "item_id"], keep="last")
        users, rows = np.unique(frame["user_id"].to_numpy(dtype=str), return_inverse=True)
        items, cols = np.unique(frame["item_id"].to_numpy(dtype=str), return_inverse=True)
        values = frame["rating"].to_numpy(dtype=np.float32)
        # A sparse matrix cannot tell a stored 0 from "unrated": keep zeros as a tiny positive.
        values = np.where(values == 0, np.float32(1e-6), values)
        matrix = sp.csr_matrix((values, (rows, cols)), shape=(len(users), len(items)))
        logger.debug("rating matrix: %d users × %d items, %d ratings",
                     len(users), len(items), matrix.nnz)
        return cls(users, items, matrix)

    @classmethod
    def empty(cls) -> RatingMatrix:
        return cls(np.array([], dtype=str), np.array([], dtype=str),
                   sp.csr_matrix((0, 0), dtype=np.float32))

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def nnz(self) -> int:
        return int(self.ratings.nnz)

    def user_row(self, user_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, ratings) of one user; empty arrays for an unknown user."""
        row = self.user_index.get(str(user_id))
        if row is None:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
        start, end = self.ratings.indptr[row], self.ratings.indptr[row + 1]
        return self.ratings.indices[start:end], self.ratings.data[start:end]

    def binary(self) -> sp.csr_matrix:
        """The same pattern with every rating replaced by 1."""
        out = self.ratings.copy()
        out.data = np.ones_like(out.data)
        return out

    # ---- persistence (plain arrays, loaded without pickle) ----
    def to_arrays(self, prefix: str = "matrix.") -> dict[str, np.ndarray]:
        return {
            f"{prefix}users": self.users,
            f"{prefix}items": self.items,
            f"{prefix}data": self.ratings.data,
            f"{prefix}indices": self.ratings.indices,
            f"{prefix}indptr": self.ratings.indptr,
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "matrix.") -> RatingMatrix:
        users, items = arrays[f"{prefix}users"], arrays[f"{prefix}items"]
        ratings = sp.csr_matrix(
            (arrays[f"{prefix}data"], arrays[f"{prefix}indices"], arrays[f"{prefix}indptr"]),
            shape=(len(users), len(items)))
        return cls(users, items, ratings)
