"""``ItemVectors``: an index's item vectors in process — row i of a read-only matrix ↔ ``ids[i]``,
memory-mapped from ``vectors.npy`` (rebuilt from Chroma when that file is unusable) — with the
constraint masks over the same rows, exact scoring of allowed rows, and the replacement of rows
when the index is written. Filtered queries and item-to-item similarity read it; Chroma answers
the rest."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from chatrec.catalog.columnar import IdColumn
from chatrec.catalog.masks import ConstraintMasks
from chatrec.catalog.models import Item
from chatrec.index.files import write_vectors
from chatrec.index.vectors import row_scores

if TYPE_CHECKING:
    from chatrec.catalog.columnar import ColumnarCatalog, ColumnarMasks

logger = logging.getLogger(__name__)

#: Reads every (id, vector) back from the vector store, for a side file that is gone or damaged.
VectorSource = Callable[[], tuple[list[str], np.ndarray]]


class ItemVectors:
    """The vectors of one index folder, loaded on first use.

    Args:
        location: the index folder (``vectors.npy`` and ``ids.json``).
        dim: the embedding dimension the matrix must have.
        fallback: reads the vectors from the vector store when the files are unusable.
        lock: the index's write lock (a load and a write never interleave).
    """

    def __init__(self, location: Path, dim: int, fallback: VectorSource, lock: threading.RLock):
        self.location = location
        self.dim = dim
        self._fallback = fallback
        self._lock = lock
        self._loaded: tuple[list[str], np.ndarray] | None = None
        #: Row of each id in the matrix.
        self.row_of: Mapping[str, int] = {}
        self._masks: ConstraintMasks | ColumnarMasks | None = None
        #: The catalog when it is columnar: when the matrix rows are its rows (or their first
        #: ones), its memory-mapped ids, id trie and masks stand for a list, a dict and per-item
        #: sets over a million ids.
        self.columns: ColumnarCatalog | None = None

    def all(self) -> tuple[list[str], np.ndarray]:
        """All ids and their unit vectors (row i ↔ id i), read-only."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    return self._load()
        return self._loaded

    def vector(self, item_id: str) -> np.ndarray | None:
        """One item's vector, or ``None`` when it is not indexed."""
        _, matrix = self.all()
        row = self.row_of.get(item_id)
        return None if row is None else matrix[row]

    def masks(self, items: Mapping[str, Item]) -> ConstraintMasks | ColumnarMasks:
        """Constraint masks over the matrix's rows (made once; ``items_changed`` drops them).
        Over a columnar catalog's rows they may be longer than the matrix (a partial index):
        the first ``len(ids)`` entries are its rows."""
        ids, _ = self.all()
        if self._masks is None:
            columns = self.columns
            self._masks = (columns.constraint_masks() if columns is not None and isinstance(ids, IdColumn)
                           else ConstraintMasks(ids, items))
        return self._masks

    def items_changed(self) -> None:
        """The items' facts changed: masks are made afresh on next use."""
        self._masks = None

    def scan(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Exact scoring of the ``allowed`` rows (default: all) of the (possibly memory-mapped)
        matrix: the ``k`` best as (id, cosine similarity), best first."""
        ids, matrix = self.all()
        if allowed is None:
            allowed = np.arange(len(ids))
        # A few allowed rows: score only those (reads only their pages of a memory-mapped file).
        scores = row_scores(matrix[allowed], vector) if allowed.size * 4 < len(ids) \
            else row_scores(matrix, vector)[allowed]
        if allowed.size > k:
            top = np.argpartition(-scores, k - 1)[:k]
        else:
            top = np.arange(allowed.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[allowed[i]], float(scores[i])) for i in top]

    def replace(self, new: dict[str, np.ndarray], remove: Iterable[str]) -> None:
        """Put ``new`` vectors in (replacing or appending rows), drop ``remove``, and write the
        files. A fresh matrix: the old one may still be in a caller's hands."""
        ids, matrix = self.all()
        drop = set(remove)
        keep = [row for row, item_id in enumerate(ids) if item_id not in drop]
        keep_ids = [ids[row] for row in keep]          # a plain list again: rows may be appended
        matrix = matrix[keep]
        row_of = {item_id: row for row, item_id in enumerate(keep_ids)}
        appended = []
        for item_id, vector in new.items():
            row = row_of.get(item_id)
            if row is None:
                appended.append(item_id)
            else:
                matrix[row] = vector
        if appended:
            matrix = np.concatenate([matrix, np.stack([new[i] for i in appended])])
            keep_ids.extend(appended)
        write_vectors(self.location, keep_ids, matrix)
        self._set(keep_ids, matrix)

    def _set(self, ids: list[str], matrix: np.ndarray) -> tuple[list[str], np.ndarray]:
        matrix.setflags(write=False)
        columns = self.columns
        if columns is not None and len(ids) <= len(columns) and all(
                a == b for a, b in zip(ids, columns.ids)):
            # Rows in catalog order, as a streamed build writes them.
            self.row_of = columns.row_of.first(len(ids))
            ids = cast(list[str], columns.ids.first(len(ids)))   # read-only: nothing appends
        else:
            self.row_of = {item_id: row for row, item_id in enumerate(ids)}
        self._masks = None
        self._loaded = (ids, matrix)
        return self._loaded

    def _load(self) -> tuple[list[str], np.ndarray]:
        try:
            ids = json.loads((self.location / "ids.json").read_text(encoding="utf-8"))
            # Memory-mapped: a worker pays RAM only for the pages its queries read, and workers
            # on one machine share them through the page cache.
            matrix = np.load(self.location / "vectors.npy", mmap_mode="r", allow_pickle=False)
            if matrix.shape != (len(ids), self.dim):
                raise ValueError(f"shape {matrix.shape} for {len(ids)} ids")
        except (OSError, ValueError) as exc:
            logger.warning("item vectors at %s unusable (%s): reading them from the vector store",
                           self.location, exc)
            ids, matrix = self._fallback()
            write_vectors(self.location, ids, matrix)
        return self._set(list(ids), matrix)
