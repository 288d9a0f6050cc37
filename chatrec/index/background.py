"""``BackgroundIndex``: a vector index that is still being built, standing in for it meanwhile.

``chatrec serve`` and ``chatrec slack`` answer from the first minute: the agent starts with the
knowledge graph and collaborative signals while this builds the index in a background thread,
and vector retrieval joins the moment it is ready (queries return nothing before, so the agent's
vector and content sources simply contribute nothing). ``status_line()`` is what a page shows
meanwhile ("Building the search index: 3,412 of 9,742 items (35%)").

The build thread runs at a lower CPU priority (Linux: the thread's nice value, which the
embedding workers it starts inherit), so turns answered during the build stay quick on a machine
with two cores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

import numpy as np

from chatrec.catalog.models import Catalog, Item
from chatrec.config import Settings, get_settings
from chatrec.errors import VectorIndexError

logger = logging.getLogger(__name__)

#: How much nicer than the serving threads the build runs (0-19; Linux only).
BUILD_NICENESS = 10


class IndexNotReady(VectorIndexError):
    """The vector index is still being built; retrieval goes on without it meanwhile."""


class BackgroundIndex:
    """Builds the index of ``catalog`` in a daemon thread and answers for it meanwhile.

    Args:
        catalog: the items to index.
        settings: where the index lives; default ``get_settings()``.
        progress: also show terminal progress bars.
        build: the function that builds and returns the index (default ``ItemIndex.build``);
            called with ``(catalog, settings, progress=..., on_progress=...)``.

    Attributes:
        catalog_name: whose index this is.
        error: why the build failed (``None`` while building or once ready).
    """

    def __init__(self, catalog: Catalog, settings: Settings | None = None, progress: bool = False,
                 build: Any = None):
        self.catalog_name = catalog.name
        self._catalog = catalog
        self._settings = settings or get_settings()
        self._progress = progress
        self._build = build
        self._index: Any = None
        self.error: BaseException | None = None
        self._stage = "starting"
        self._done = 0
        self._total = len(catalog)
        self._started = time.perf_counter()
        self._finished: float | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BackgroundIndex({self.catalog_name!r}, {self.status_line() or 'ready'})"

    # ---------------------------------------------------------------- the build
    def start(self) -> BackgroundIndex:
        with self._lock:
            if self._thread is None:
                self._started = time.perf_counter()
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                 name=f"chatrec-index-{self.catalog_name}")
                self._thread.start()
        return self

    def _run(self) -> None:
        _lower_priority()
        try:
            build = self._build
            if build is None:
                from chatrec.index.store import ItemIndex

                build = ItemIndex.build
            index = build(self._catalog, self._settings, progress=self._progress,
                          on_progress=self._on_progress)
            self._stage = "query model"
            # Load the query model now (a first start exports it to ONNX): the first vector
            # query of a conversation must not pay for it.
            index.query("a warm-up query", k=1)
            self._index = index
            logger.warning("vector index of %s ready (%d items) after %.0f s; vector retrieval "
                           "joins", self.catalog_name, index.count(), self.elapsed_s)
        except BaseException as exc:  # noqa: BLE001 - reported by status_line(); serving goes on
            logger.exception("building the vector index of %s failed", self.catalog_name)
            self.error = exc
        finally:
            self._finished = time.perf_counter()
            self._ready.set()

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        self._stage, self._done, self._total = stage, done, total

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the build to finish (or fail); True if it finished in time."""
        return self._ready.wait(timeout)

    # ---------------------------------------------------------------- state
    @property
    def ready(self) -> bool:
        """The index is built and answers queries."""
        return self._index is not None

    @property
    def elapsed_s(self) -> float:
        return (self._finished or time.perf_counter()) - self._started

    def status_line(self) -> str | None:
        """One line for a page or a log while the index is not ready; ``None`` once it is."""
        if self._index is not None:
            return None
        if self.error is not None:
            return (f"The search index could not be built ({self.error}); answering from the "
                    "knowledge graph and ratings.")
        if self._stage == "embedding" and self._total:
            share = self._done / self._total
            what = f"{self._done:,} of {self._total:,} items ({share:.0%})"
        elif self._stage == "indexing":
            what = "writing it"
        else:
            what = "starting" if self._stage == "starting" else "loading the query model"
        return (f"Building the search index: {what}, {self.elapsed_s:.0f}s. Answers use the "
                "knowledge graph and ratings meanwhile.")

    def progress(self) -> tuple[str, int, int]:
        """(stage, done, total) of the build."""
        return self._stage, self._done, self._total

    def get(self) -> Any:
        """The built ``ItemIndex``, or ``None`` while building (or after a failure)."""
        return self._index

    # ---------------------------------------------------------------- the index's interface
    def query(self, text: str, k: int = 50, flt: Any = None) -> list[tuple[str, float]]:
        index = self._index
        return index.query(text, k=k, flt=flt) if index is not None else []

    def query_vector(self, vector: np.ndarray, k: int = 50, flt: Any = None
                     ) -> list[tuple[str, float]]:
        index = self._index
        return index.query_vector(vector, k=k, flt=flt) if index is not None else []

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        index = self._index
        return index.nearest(vector, k) if index is not None else []

    def vector(self, item_id: str) -> np.ndarray | None:
        index = self._index
        return index.vector(item_id) if index is not None else None

    def vectors(self) -> tuple[list[str], np.ndarray]:
        index = self._index
        if index is None:
            raise IndexNotReady(self.status_line() or "the vector index is not ready")
        return index.vectors()

    def count(self) -> int:
        index = self._index
        return index.count() if index is not None else 0

    def __len__(self) -> int:
        return self.count()

    @property
    def embedder(self) -> Any:
        index = self._index
        return index.embedder if index is not None else None

    @property
    def augmentations(self) -> Any:
        index = self._index
        return index.augmentations if index is not None else None

    def document(self, item: Item) -> str:
        from chatrec.index.documents import document_text

        index = self._index
        return index.document(item) if index is not None else document_text(item)

    def close(self) -> None:
        index = self._index
        if index is not None:
            index.close()


def _lower_priority() -> None:
    """Make the calling thread (and the threads it starts) nicer, where the OS allows it."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid)
                                                + BUILD_NICENESS))
