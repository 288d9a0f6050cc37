"""How many catalog items agree with everything a simulated user said: the size of the haystack
the recommender had to search, reported beside the hit rates (numpy masks, microseconds a call)."""

from __future__ import annotations

import numpy as np

from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import label_key
from chatrec.evaluation.user import Attribute, Meaning
from kg.models import keyword_node


class ConsistencyCounter:
    """Counts the items consistent with a ``Meaning`` (the user's accumulated statements).

    Args:
        catalog: the catalog searched.
        kg: its knowledge graph (keyword edges).
    """

    def __init__(self, catalog: Catalog, kg):
        self.catalog = catalog
        self.kg = kg
        self.ids = catalog.ids
        self.pos = {item_id: i for i, item_id in enumerate(self.ids)}
        n = len(self.ids)
        self.years = np.array([it.year or 0 for it in catalog], dtype=np.int32)
        self.decades = np.array([it.decade or -1 for it in catalog], dtype=np.int32)
        self._genres: dict[str, np.ndarray] = {}
        self._people: dict[str, list[int]] = {}
        for row, item in enumerate(catalog):
            for genre in item.genres:
                self._genres.setdefault(genre, np.zeros(n, dtype=bool))[row] = True
            for _, name in item.people:
                self._people.setdefault(label_key(name), []).append(row)
        self._cache: dict[Attribute, np.ndarray] = {}

    def _mask(self, attribute: Attribute) -> np.ndarray:
        cached = self._cache.get(attribute)
        if cached is not None:
            return cached
        n = len(self.ids)
        if attribute.kind == "genre":
            mask = self._genres.get(attribute.value, np.zeros(n, dtype=bool))
        elif attribute.kind == "decade":
            mask = self.decades == int(attribute.value)
        elif attribute.kind == "keyword":
            mask = np.zeros(n, dtype=bool)
            rows = [
                self.pos[i]
                for i in self.kg.items_with(keyword_node(attribute.value))
                if i in self.pos
            ]
            mask[rows] = True
        else:
            mask = np.zeros(n, dtype=bool)
            mask[self._people.get(label_key(attribute.value), [])] = True
        self._cache[attribute] = mask
        return mask

    def mask(self, told: Meaning) -> np.ndarray:
        keep = np.ones(len(self.ids), dtype=bool)
        for attribute in told.reveals:
            keep &= self._mask(attribute)
        for genre in told.excludes_genres:
            keep &= ~self._mask(Attribute("genre", genre))
        if told.newer_than is not None:
            keep &= self.years > told.newer_than
        if told.older_than is not None:
            keep &= (self.years < told.older_than) & (self.years > 0)
        return keep

    def count(self, told: Meaning) -> int:
        return int(self.mask(told).sum())
