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
        catalog = table.catalog
        genres = sorted({label_key(g) for item in catalog for g in item.genres})
        self.column = {g: i for i, g in enumerate(genres)}
        matrix = np.zeros((len(table), max(len(genres), 1)), dtype=np.float32)
        for row, item in enumerate(catalog):
            for genre in item.genres:
                matrix[row, self.column[label_key(genre)]] = 1.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.maximum(norms, 1e-9)
        self.pos = table.pos

    def profile(self, query: RetrievalQuery) -> np.ndarray:
        profile = np.zeros(self.matrix.shape[1], dtype=np.float32)
        for item_id, weight in query.seeds.items():
            row = self.pos.get(item_id)
            if row is not None and weight > 0:
                profile += weight * self.matrix[row]
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
            return np.zeros(len(self.matrix), dtype=np.float32)
        return self.matrix @ (profile / norm)
