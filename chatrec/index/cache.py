"""An on-disk cache of document embeddings keyed by (model name, document hash).

Rebuilding an index, or building the same small index in every test session, then costs a
database read instead of minutes of embedding. One SQLite file per model under
``Settings.cache_dir/embeddings``; WAL mode so concurrent builds (several test runs) can share it.
A damaged cache is only a cache: it is set aside and started afresh.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

_CHUNK = 500  # SQLite's parameter limit is 999 on old builds


class EmbeddingCache:
    """Vectors by document hash, for one model.

    Args:
        root: the folder holding one ``<model>.sqlite3`` per model.
        model: the embedder's name (vectors of two models never mix).
        dim: the vectors' length; a stored vector of another length counts as missing.
    """

    def __init__(self, root: Path, model: str, dim: int):
        self.path = Path(root) / f"{_safe(model)}.sqlite3"
        self.model = model
        self.dim = dim
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = self._open()
            except sqlite3.DatabaseError as exc:
                logger.warning("embedding cache %s unreadable (%s); starting afresh",
                               self.path, exc)
                self.path.replace(self.path.with_suffix(".damaged"))
                self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS vectors "
                     "(hash TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return conn

    def get_many(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``hashes`` (missing ones are simply absent)."""
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        with self._lock:
            try:
                conn = self._connect()
                for start in range(0, len(wanted), _CHUNK):
                    chunk = wanted[start:start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = conn.execute(f"SELECT hash, vec FROM vectors WHERE hash IN ({marks})",
                                        chunk)
                    for key, blob in rows:
                        vector = np.frombuffer(blob, dtype=np.float32)
                        if vector.shape == (self.dim,):
                            found[key] = vector
            except sqlite3.DatabaseError as exc:
                logger.warning("embedding cache read failed (%s); embedding afresh", exc)
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        if not vectors:
            return
        rows = [(key, np.ascontiguousarray(vec, dtype=np.float32).tobytes())
                for key, vec in vectors.items()]
        with self._lock:
            try:
                conn = self._connect()
                with conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO vectors (hash, vec) VALUES (?, ?)", rows)
            except sqlite3.DatabaseError as exc:  # the cache is an optimisation, never a failure
                logger.warning("embedding cache write failed: %s", exc)

    def __len__(self) -> int:
        with self._lock:
            return int(self._connect().execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:80]
