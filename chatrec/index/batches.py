"""Batched reads and writes of a Chroma collection: one request per ``BATCH`` ids at most, since
Chroma caps how many a request may carry and a large catalog has far more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

BATCH = 2000


def stored_metadata(collection: Any, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored metadata of those ``ids`` the collection holds."""
    stored: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), BATCH):
        got = collection.get(ids=list(ids[start:start + BATCH]), include=["metadatas"])
        stored.update(zip(got["ids"], got["metadatas"], strict=True))
    return stored


def read_vectors(collection: Any, count: int, dim: int) -> tuple[list[str], np.ndarray]:
    """Every id of a collection of ``count`` items and its vector (row i ↔ id i)."""
    ids: list[str] = []
    rows: list[np.ndarray] = []
    for offset in range(0, count, BATCH):
        got = collection.get(include=["embeddings"], limit=BATCH, offset=offset)
        ids.extend(got["ids"])
        rows.append(np.asarray(got["embeddings"], dtype=np.float32).reshape(-1, dim))
    return ids, (np.concatenate(rows) if rows else np.zeros((0, dim), np.float32))


def upsert(collection: Any, ids: Sequence[str], vectors: np.ndarray, metas: Sequence[dict[str, Any]]) -> None:
    """Add or replace rows (row i of ``vectors`` and ``metas`` ↔ ``ids[i]``)."""
    for start in range(0, len(ids), BATCH):
        end = start + BATCH
        collection.upsert(ids=list(ids[start:end]), embeddings=vectors[start:end], metadatas=list(metas[start:end]))


def update_metadata(collection: Any, ids: Sequence[str], metas: Sequence[dict[str, Any]]) -> None:
    """Rewrite the metadata of existing rows, their vectors untouched."""
    for start in range(0, len(ids), BATCH):
        end = start + BATCH
        collection.update(ids=list(ids[start:end]), metadatas=list(metas[start:end]))


def delete(collection: Any, ids: Sequence[str]) -> None:
    for start in range(0, len(ids), BATCH):
        collection.delete(ids=list(ids[start:start + BATCH]))
