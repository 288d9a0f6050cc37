"""Query planning for large indexes, shown on the small index with its size thresholds lowered:
a broad filter over-fetches from HNSW and keeps what the mask allows; a selective one, and every
query on a small index, is scored exactly; similarity above the exact size goes to HNSW."""

from __future__ import annotations

import numpy as np
import pytest

from chatrec.catalog.constraints import Constraints
from chatrec.index.store import ItemIndex

pytestmark = pytest.mark.usefixtures("data_dir")


def _vector(seed: int, dim: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_a_broad_filter_on_a_large_index_uses_hnsw_and_still_only_returns_matches(small_index, monkeypatch):
    broad = Constraints(genres_none=["horror"])
    selective = Constraints(genres_all=["comedy"], year_min=1990, year_max=1999)
    dim = small_index.embedder.dim
    exact = {i: small_index.query_vector(_vector(i, dim), k=10, flt=broad) for i in range(5)}
    searched: list[int] = []
    original = small_index._search

    def spy(vector, k, flt):
        searched.append(k)
        return original(vector, k, flt)

    monkeypatch.setattr(small_index, "_search", spy)
    n_broad = int(small_index.item_vectors.masks(small_index._items).mask(broad).sum())
    n_selective = int(small_index.item_vectors.masks(small_index._items).mask(selective).sum())
    assert 10 < n_selective < n_broad
    monkeypatch.setattr(small_index, "exact_rows", 10)             # "large": more than 10 items
    monkeypatch.setattr(small_index, "scan_rows", n_selective)     # "broad": more allowed than that
    for i in range(5):
        hits = small_index.query_vector(_vector(i, dim), k=10, flt=broad)
        assert len(hits) == 10 and all(broad.matches(small_index._items[h]) for h, _ in hits)
        overlap = len({h for h, _ in hits} & {h for h, _ in exact[i]})
        assert overlap >= 8, "HNSW over-fetch should find (nearly) the exact top 10"
    assert len(searched) == 5 and all(k > 10 for k in searched), "over-fetched from HNSW"
    searched.clear()
    hits = small_index.query_vector(_vector(9, dim), k=10, flt=selective)
    assert hits and all(selective.matches(small_index._items[h]) for h, _ in hits)
    assert searched == [], "a selective filter is scored exactly"
    assert small_index.nearest(_vector(3, dim), 5) and searched == [5]


def test_vectors_are_memory_mapped_and_nearest_is_exact_on_a_small_index(small_index, small_movies,
                                                                        session_settings, embedder):
    # Opened afresh: the session's shared index may hold vectors another test loaded in memory.
    small_index = ItemIndex.open(small_movies, session_settings, embedder=embedder)
    ids, matrix = small_index.vectors()
    assert isinstance(matrix, np.memmap) and not matrix.flags.writeable
    vector = matrix[7]
    top = small_index.nearest(vector, 3)
    assert top[0][0] == ids[7] and top[0][1] == pytest.approx(1.0, abs=1e-5)
