"""How well a film's genres match the genres a dialogue leans to: the films liked so far, the
genres liked and the genres asked for, as one genre profile compared by cosine.

A ranker feature, and what conditions mention popularity on the request
(``dialogue_stats.GenreMentionPopularity``): "a comedy like The 40-Year-Old Virgin" wants the
comedies recommenders suggest most, not the most suggested films.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chatrec.catalog.normalize import label_key

if TYPE_CHECKING:
    from chatrec.agent.retrieve import RetrievalQuery

#: A genre liked or asked for counts as much as this many liked films of that genre alone.
STATED_GENRE_WEIGHT = 2.0


class GenreProfile:
    """Row-normalised item × genre matrix of a catalog (the agent's ``ItemTable`` order)."""

    def __init__(self, table):
        from scipy import sparse

        rows, columns = [], []
        self.column: dict[str, int] = {}
        for row, item in enumerate(table.catalog):
            for key in {label_key(g) for g in item.genres}:
                rows.append(row)
                columns.append(self.column.setdefault(key, len(self.column)))
        # Sparse: a large custom catalog has many categories and few per item.
        counts = np.bincount(np.asarray(rows, dtype=np.int64), minlength=len(table)).astype(np.float32)
        values = 1.0 / np.sqrt(np.maximum(counts[np.asarray(rows, dtype=np.int64)], 1.0))
        self.matrix = sparse.csr_matrix((values.astype(np.float32), (rows, columns)),
                                        shape=(len(table), max(len(self.column), 1)))
        self.pos = table.pos
        self.n = len(table)

    def profile(self, query: RetrievalQuery) -> np.ndarray:
        profile = np.zeros(max(len(self.column), 1), dtype=np.float32)
        for item_id, weight in query.seeds.items():
            row = self.pos.get(item_id)
            if row is not None and weight > 0:
                start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
                profile[self.matrix.indices[start:end]] += weight * self.matrix.data[start:end]
        c = query.constraints
        stated = [n.partition(":")[2] for n in query.liked_attributes if n.startswith("genre:")]
        for genre in (*stated, *(c.genres_all or ()), *(c.genres_any or ())):
            col = self.column.get(label_key(genre))
            if col is not None:
                profile[col] += STATED_GENRE_WEIGHT
        return profile

    def similarity(self, query: RetrievalQuery) -> np.ndarray:
        """Cosine of every film's genres with the query's profile (zeros: no profile)."""
        profile = self.profile(query)
        norm = float(np.linalg.norm(profile))
        if norm == 0:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.matrix @ (profile / norm), dtype=np.float32)
