"""``ItemIndex``: the catalog's items in a Chroma collection, queried with hard filters.

Layout (one folder per catalog, ``Settings.index_dir/<catalog>``)::

    chroma/          Chroma's persistent files (absent when a Chroma server holds the collection)
    vectors.npy      the item vectors, row i ↔ ids.json[i], for in-process item-to-item similarity
    ids.json
    manifest.json    written last: model, dimension, count, catalog fingerprint, augmentation

Documents include the catalog's LLM summaries when ``chatrec augment`` made some
(``chatrec.index.augmentations``): builds, upserts and syncs all read them, so an augmented
document is never reverted to plain text; the manifest's ``augmentation`` digest tells ``sync``
when they changed.

A build happens in a sibling folder and is swapped in by renaming, so a crash mid-build never
leaves a half index in place (the old one stays, or none). With ``CHATREC_CHROMA_URL`` set, the
collection lives on the server (built under a temporary name, then renamed) and the folder keeps
only the side files; everything else is the same code.

The vectors in process (``vectors.npy``, masks, exact scans) are ``chatrec.index.item_vectors``;
batched Chroma requests are ``chatrec.index.batches``; the side files are written by
``chatrec.index.files``.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from chatrec.catalog.atomic import atomic_write
from chatrec.catalog.commands import build_command
from chatrec.catalog.constraints import Constraints, ItemFilter
from chatrec.catalog.models import Catalog, Item
from chatrec.config import Settings, get_settings
from chatrec.errors import IndexCorruptError, IndexMissingError, VectorIndexError
from chatrec.index import batches
from chatrec.index.augmentations import Augmentations
from chatrec.index.cache import EmbeddingCache
from chatrec.index.documents import document_metadata, document_text
from chatrec.index.embedder import Embedder, default_embedder, document_embedder, embed_query
from chatrec.index.files import readable, write_json
from chatrec.index.item_vectors import ItemVectors

if TYPE_CHECKING:
    from chatrec.catalog.columnar import ColumnarCatalog

logger = logging.getLogger(__name__)

#: Bump when the folder layout or the document recipe changes incompatibly.
FORMAT = 1
COLLECTION = "items"
# How many neighbours the load-time probe asks for: an index missing its HNSW segment answers
# fewer (only what is still in Chroma's log), however many items it counts.
PROBE_RESULTS = 10
#: Up to this many items, filtered queries and similarity scan the whole vector matrix exactly
#: (about 1 ms per 10,000 rows on an idle core); above, unfiltered similarity goes to HNSW.
EXACT_ROWS = 50_000
#: On a larger index, a filter allowing at most this many rows is still scored exactly.
SCAN_ROWS = 40_000
#: The most results asked of HNSW when over-fetching for a broad filter.
MAX_FETCH = 2_000
#: Told how a build goes: (stage, done, total), stage "embedding" or "indexing".
ProgressReport = Callable[[str, int, int], None]


@dataclass
class UpsertReport:
    """What an ``upsert`` did.

    Attributes:
        added: items new to the index.
        reembedded: existing items whose document text changed (embedded again).
        metadata_only: items whose text was unchanged but whose filter metadata changed.
        unchanged: items left alone.
        embedded: texts that went through the model (cache misses among added + reembedded).
        removed: items deleted (``sync`` only).
    """

    added: int = 0
    reembedded: int = 0
    metadata_only: int = 0
    unchanged: int = 0
    embedded: int = 0
    removed: int = 0


class ItemStream(Protocol):
    """A catalog read item by item (too large to hold at once): what an index build needs."""

    name: str

    def __iter__(self) -> Iterator[Item]: ...
    def __len__(self) -> int: ...
    def fingerprint(self) -> str: ...


class ItemIndex:
    """The vector index of one catalog. Make one with ``build`` or ``open``.

    Attributes:
        catalog_name: whose items these are.
        embedder: embeds query texts.
        documents: embeds documents on upsert (the same model, often a bulk back-end).
        location: the folder of this index (side files; Chroma's files too unless on a server).
        manifest: what was recorded when the index was built.
    """

    def __init__(self, items: dict[str, Item], catalog_name: str, settings: Settings,
                 embedder: Embedder, client: Any, collection: Any, location: Path,
                 manifest: dict[str, Any], count: int, documents: Embedder | None = None):
        self._items = items
        self.catalog_name = catalog_name
        self.settings = settings
        self.embedder = embedder
        self.documents = documents or embedder
        #: "run `chatrec build --catalog …`: …", for error messages.
        self.rebuild_hint = _rebuild_hint(build_command(catalog_name))
        self._client = client
        self._collection = collection
        self.location = location
        self.manifest = manifest
        self._count = count
        #: "memory" (filters as masks over the vector matrix) or "chroma" (metadata ``where``).
        self.filter_engine = "memory"
        #: Query planning by size (see ``EXACT_ROWS``, ``SCAN_ROWS``, ``MAX_FETCH``).
        self.exact_rows, self.scan_rows, self.max_fetch = EXACT_ROWS, SCAN_ROWS, MAX_FETCH
        self._write_lock = threading.RLock()
        #: The item vectors in process (filtered queries, similarity), beside Chroma's copy.
        self.item_vectors = ItemVectors(location, embedder.dim, self._vectors_from_chroma, self._write_lock)
        #: LLM item summaries embedded with the documents (``chatrec augment``).
        self.augmentations = Augmentations.load(settings, catalog_name)

    def __repr__(self) -> str:
        return f"ItemIndex({self.catalog_name!r}, {self._count} items, {self.location})"

    # ------------------------------------------------------------------ build / open
    @classmethod
    def build(cls, catalog: Catalog, settings: Settings | None = None,
              embedder: Embedder | None = None, rebuild: bool = False, progress: bool = True,
              cache: EmbeddingCache | None = None, documents: Embedder | None = None,
              on_progress: ProgressReport | None = None) -> ItemIndex:
        """Make the index of ``catalog`` current and return it.

        Without ``rebuild``, an existing index is brought up to date in place (only items whose
        document changed are embedded again; items gone from the catalog are removed); a missing
        or damaged one is built afresh. With ``rebuild``, it is always built afresh, aside, and
        swapped in.

        Args:
            catalog: the items to index.
            settings: where the index and caches live; default ``get_settings()``.
            embedder: embeds queries; default: the shared all-MiniLM-L6-v2 embedder (ONNX).
            rebuild: build from scratch even if a current index exists.
            progress: show progress bars.
            cache: the embedding cache (default: ``settings.cache_dir/embeddings``).
            documents: embeds the documents; default ``embedder`` when one is given, else the
                shared bulk embedder (``document_embedder``: bf16 where the CPU has it).
            on_progress: told ``(stage, done, total)`` as the build goes (a page's progress line).
        """
        settings = settings or get_settings()
        if documents is None:
            documents = embedder or document_embedder(settings)
        embedder = embedder or default_embedder(settings)
        if not rebuild:
            try:
                index = cls.open(catalog, settings, embedder, documents=documents)
            except IndexMissingError:
                logger.info("no index for %s yet: building it", catalog.name)
            except IndexCorruptError as exc:
                logger.warning("rebuilding the index of %s: %s", catalog.name, exc)
            else:
                index.sync(catalog, progress=progress, cache=cache, on_progress=on_progress)
                return index
        _Builder(catalog, settings, documents, cache, progress, on_progress).run()
        return cls.open(catalog, settings, embedder, documents=documents)

    @classmethod
    def build_from_vectors(cls, catalog: Catalog | ItemStream, vectors_of: Callable[[int, int], np.ndarray],
                           settings: Settings | None = None, embedder: Embedder | None = None,
                           batch: int = 5000, hnsw: dict[str, Any] | None = None,
                           progress: bool = False) -> ItemIndex | None:
        """Build the index of ``catalog`` from vectors given by ``vectors_of(start, count)`` (row
        i ↔ the catalog's i-th item) instead of embedding documents — for benchmarks that
        measure storage and search, not the model. ``hnsw``: Chroma HNSW settings (e.g.
        ``{"ef_construction": 40, "max_neighbors": 12}`` for a faster build of a large index).
        ``catalog`` may be an ``ItemStream`` (items read one batch at a time; returns None)."""
        settings = settings or get_settings()
        embedder = embedder or default_embedder(settings)

        def chunks() -> Iterator[tuple[list[str], list[dict[str, Any]], np.ndarray]]:
            items = iter(catalog)      # streamed: a catalog may be too large to list at once
            start = 0
            while part := list(itertools.islice(items, batch)):
                metas = [document_metadata(item) for item in part]
                yield [item.id for item in part], metas, vectors_of(start, len(part))
                start += len(part)

        _Builder(catalog, settings, embedder, None, progress).write(chunks(), len(catalog), hnsw=hnsw)
        if not isinstance(catalog, Catalog):
            return None        # a streamed catalog: open the index later with the loaded one
        return cls.open(catalog, settings, embedder)

    @classmethod
    def open(cls, catalog: Catalog, settings: Settings | None = None,
             embedder: Embedder | None = None, documents: Embedder | None = None) -> ItemIndex:
        """Open the index of ``catalog`` built earlier.

        Raises:
            IndexMissingError: no index was built for this catalog (the message names the
                ``chatrec build --catalog …`` command).
            IndexCorruptError: the index is damaged, incomplete or made with another model
                (the message names the ``chatrec build --catalog …`` command).
        """
        settings = settings or get_settings()
        embedder = embedder or default_embedder(settings)
        place = _Place(settings, catalog.name, build_command(catalog))
        place.recover()
        manifest = place.read_manifest()
        if manifest.get("format") != FORMAT:
            raise IndexCorruptError(f"the index at {place.folder} has an old or unknown format; "
                                    f"{place.rebuild_hint}")
        if manifest.get("model") != embedder.name or manifest.get("dim") != embedder.dim:
            raise IndexCorruptError(
                f"the index at {place.folder} was built with {manifest.get('model')!r} "
                f"({manifest.get('dim')}-d), not {embedder.name!r}; {place.rebuild_hint}")
        client, collection, count = place.open_collection(embedder, manifest)
        if count != len(catalog):  # cheap hint; the full check (a fingerprint) is in ``sync``
            logger.info("the index of %s holds %d items, the catalog %d: run `%s` to bring it up "
                        "to date", catalog.name, count, len(catalog), place.command)
        columns = _columnar(catalog)
        # A columnar catalog's items are a lazy mapping already (a copy would hold them all).
        items = columns.items if columns is not None else {item.id: item for item in catalog}
        index = cls(items, catalog.name, settings, embedder, client, collection, place.folder,
                    manifest, count, documents=documents)
        index.item_vectors.columns = columns
        index.rebuild_hint = place.rebuild_hint
        return index

    # ------------------------------------------------------------------ queries
    def count(self) -> int:
        """How many items the index holds."""
        return self._count

    def __len__(self) -> int:
        return self._count

    def query(self, text: str, k: int = 50, flt: Constraints | None = None
              ) -> list[tuple[str, float]]:
        """The ``k`` items most similar to ``text`` that satisfy ``flt``.

        Returns:
            (item id, cosine similarity) pairs, most similar first. Every item satisfies
            ``flt.matches`` (checked again after Chroma's metadata filter) and is in the catalog.
        """
        return self.query_vector(embed_query(self.embedder, text), k=k, flt=flt)

    def query_vector(self, vector: np.ndarray, k: int = 50, flt: Constraints | None = None
                     ) -> list[tuple[str, float]]:
        """Like ``query`` for a vector already embedded (e.g. an item's own vector).

        Without a filter, Chroma's HNSW answers. With one, the filter becomes a mask over the
        in-process vector matrix and every allowed item is scored (exact, ~1 ms; Chroma's
        ``where`` takes 15–35 ms on MovieLens) unless ``filter_engine`` is "chroma".
        """
        if k <= 0 or self._count == 0:
            return []
        flt = flt if flt is not None and not flt.is_empty() else None
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if flt is not None and self.filter_engine == "memory":
            candidates = self._filtered(vector, k, flt)
        elif flt is None and self._count <= self.exact_rows and self.filter_engine == "memory":
            # Exact and the same in every process: HNSW's approximate answer for one query
            # varied between processes, and whatever is learnt from recorded queries with it.
            stale = max(0, self._count - len(self._items))  # indexed rows the catalog no longer has
            candidates = self.item_vectors.scan(vector, min(k + stale, self._count))
        else:
            candidates = self._search(vector, k, flt)
        hits: list[tuple[str, float]] = []
        check = flt.matcher() if flt is not None else None
        for item_id, score in candidates:
            item = self._items.get(item_id)
            if item is None or (check is not None and not check(item)):
                continue
            hits.append((item_id, score))
            if len(hits) == k:
                break
        return hits

    def _search(self, vector: np.ndarray, k: int, flt: Constraints | None
                ) -> list[tuple[str, float]]:
        """Chroma: HNSW, with the filter as a metadata ``where``."""
        from chatrec.index.chroma import where_clause

        # Excluded ids are dropped by the caller rather than by a `$nin`: ask for that many more.
        excluded = len(flt.exclude_ids) if isinstance(flt, ItemFilter) else 0
        wanted = min(k + excluded, self._count)
        try:
            found = self._open_collection().query(query_embeddings=[vector], n_results=wanted,
                                           where=where_clause(flt), include=["distances"])
        except Exception as exc:
            raise IndexCorruptError(f"querying the index at {self.location} failed ({exc}); "
                                    f"{self.rebuild_hint}") from exc
        return [(item_id, 1.0 - float(distance))
                for item_id, distance in zip(found["ids"][0], found["distances"][0], strict=True)]

    def _filtered(self, vector: np.ndarray, k: int, flt: Constraints) -> list[tuple[str, float]]:
        """A filtered query planned on the mask of ``flt`` (cheap: numpy over per-row facts).

        Exact scoring of the allowed rows when the index is small or the filter selective;
        on a large index with a broad filter, scoring that many rows costs more than Chroma's
        HNSW over-fetched by the filter's selectivity and post-filtered by the mask (falling back
        to the exact scan if too few pass).
        """
        mask = self.item_vectors.masks(self._items).mask(flt)[:len(self.item_vectors.all()[0])]
        allowed = np.flatnonzero(mask)
        if allowed.size == 0:
            return []
        if self._count > self.exact_rows and allowed.size > self.scan_rows:
            excluded = len(flt.exclude_ids) if isinstance(flt, ItemFilter) else 0
            fetch = min(self._count, self.max_fetch,
                        int(np.ceil((k + excluded) * self._count / allowed.size * 2)))
            row_of = self.item_vectors.row_of
            kept = [(item_id, score) for item_id, score in self._search(vector, fetch, None)
                    if item_id in row_of and mask[row_of[item_id]]]
            if len(kept) >= k + excluded:
                return kept
        return self.item_vectors.scan(vector, k, allowed)

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` items most similar to ``vector``, unfiltered: an exact scan of the matrix
        on an index of up to ``EXACT_ROWS`` items, Chroma's HNSW above (no full scan per call)."""
        if k <= 0 or self._count == 0:
            return []
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self._count > self.exact_rows:
            return self._search(vector, k, None)
        return self.item_vectors.scan(vector, k)

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """All item ids and their unit vectors (row i ↔ id i), read-only, for similarity in
        process. Loaded once from ``vectors.npy``; rebuilt from Chroma if that file is gone."""
        return self.item_vectors.all()

    def vector(self, item_id: str) -> np.ndarray | None:
        """One item's vector, or ``None`` when it is not indexed."""
        return self.item_vectors.vector(item_id)

    def _vectors_from_chroma(self) -> tuple[list[str], np.ndarray]:
        return batches.read_vectors(self._open_collection(), self._count, self.embedder.dim)

    # ------------------------------------------------------------------ updates
    def upsert(self, items: Iterable[Item], progress: bool = False,
               cache: EmbeddingCache | None = None, on_progress: ProgressReport | None = None
               ) -> UpsertReport:
        """Add or update ``items``. Only items whose document text changed are embedded again
        (detected by the ``doc_hash`` in their metadata); a metadata-only change (popularity, a
        filter field) rewrites the metadata alone."""
        items = list(items)
        report = UpsertReport()
        if not items:
            return report
        with self._write_lock:
            stored = batches.stored_metadata(self._open_collection(), [item.id for item in items])
            texts = {item.id: self.document(item) for item in items}
            metas = {item.id: document_metadata(item, texts[item.id]) for item in items}
            fresh, changed, meta_only = _changes(items, stored, metas)
            report.added, report.reembedded, report.metadata_only = (
                len(fresh), len(changed), len(meta_only))
            report.unchanged = len(items) - len(fresh) - len(changed) - len(meta_only)
            to_embed = fresh + changed
            cache = cache if cache is not None else default_cache(self.settings, self.documents)
            vectors, report.embedded = embed_documents(
                [texts[i] for i in to_embed], self.documents, cache, progress=progress,
                on_progress=on_progress)
            try:
                batches.upsert(self._open_collection(), to_embed, vectors, [metas[i] for i in to_embed])
                batches.update_metadata(self._open_collection(), meta_only, [metas[i] for i in meta_only])
            except Exception as exc:
                raise VectorIndexError(f"updating the index at {self.location} failed ({exc}); "
                                       f"{self.rebuild_hint}") from exc
            for item in items:
                self._items[item.id] = item
            self.item_vectors.items_changed()
            if to_embed:
                self.item_vectors.replace(dict(zip(to_embed, vectors, strict=True)), remove=())
            if to_embed or meta_only:
                self._after_write()
        logger.info("upsert into %s: %s", self.catalog_name, report)
        return report

    def remove(self, ids: Iterable[str]) -> int:
        """Delete items from the index; returns how many were there."""
        ids = list(dict.fromkeys(ids))
        with self._write_lock:
            present = list(batches.stored_metadata(self._open_collection(), ids))
            if not present:
                return 0
            batches.delete(self._open_collection(), present)
            for item_id in present:
                self._items.pop(item_id, None)
            self.item_vectors.replace({}, remove=present)
            self._after_write()
        return len(present)

    def document(self, item: Item) -> str:
        """The embedded text of ``item``: its catalog document plus its LLM summary, if any."""
        return document_text(item, self.augmentations.items.get(item.id))

    def sync(self, catalog: Catalog, progress: bool = False,
             cache: EmbeddingCache | None = None, on_progress: ProgressReport | None = None
             ) -> UpsertReport:
        """Bring the index in line with ``catalog`` and its augmentations on disk: upsert its
        items (re-embedding those whose document changed), remove the others."""
        self.augmentations = Augmentations.load(self.settings, self.catalog_name)
        digest = self.augmentations.digest()
        if (self.manifest.get("fingerprint") == catalog.fingerprint()
                and self.manifest.get("count") == len(catalog) == self._count
                and self.manifest.get("augmentation", "") == digest):
            return UpsertReport(unchanged=len(catalog))
        report = self.upsert(catalog, progress=progress, cache=cache, on_progress=on_progress)
        gone = [item_id for item_id in self.vectors()[0] if item_id not in catalog]
        report.removed = self.remove(gone) if gone else 0
        self._items = {item.id: item for item in catalog}
        self.item_vectors.items_changed()
        self.manifest["fingerprint"] = catalog.fingerprint()
        self.manifest["augmentation"] = digest
        self._after_write()
        return report

    def _after_write(self) -> None:
        self._count = int(self._open_collection().count())
        self.manifest.update(count=self._count, updated_at=time.time())
        write_json(self.location / "manifest.json", self.manifest)

    def close(self) -> None:
        """Release Chroma's handles on the index files (the index can be reopened later)."""
        if self.settings.chroma_url is None:
            from chatrec.index.chroma import release_persistent

            release_persistent(self.location / "chroma", self._client)
        self._client = self._collection = None

    def _open_collection(self) -> Any:
        if self._collection is None:
            raise VectorIndexError(f"the index at {self.location} is closed")
        return self._collection


def _changes(items: list[Item], stored: dict[str, dict[str, Any]], metas: dict[str, dict[str, Any]]
             ) -> tuple[list[str], list[str], list[str]]:
    """(new ids, ids whose document changed, ids whose metadata alone changed): the ``doc_hash``
    in the stored metadata tells a document change without embedding anything."""
    fresh, changed, meta_only = [], [], []
    for item in items:
        old = stored.get(item.id)
        if old is None:
            fresh.append(item.id)
        elif old.get("doc_hash") != metas[item.id]["doc_hash"]:
            changed.append(item.id)
        elif {key: old.get(key) for key in metas[item.id]} != metas[item.id]:
            meta_only.append(item.id)
    return fresh, changed, meta_only


# ---------------------------------------------------------------------- embedding
def default_cache(settings: Settings, embedder: Embedder) -> EmbeddingCache:
    return EmbeddingCache(settings.cache_dir / "embeddings", embedder.name, embedder.dim)


def embed_documents(texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None,
                    progress: bool = False, on_progress: ProgressReport | None = None
                    ) -> tuple[np.ndarray, int]:
    """Vectors of ``texts`` (row i ↔ text i), from the cache where it has them.

    Returns:
        (matrix, number of texts that went through the model).
    """
    from chatrec.index.embedder import text_hash

    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    if not texts:
        return out, 0
    keys = [text_hash(text) for text in texts]
    known = cache.get_many(keys) if cache is not None else {}
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in known:
            missing.setdefault(key, text)
    if missing:
        # Longest first across all texts, as ``embed`` would: chunks of mixed lengths would pad
        # every batch to its longest text (+30% CPU measured on MovieLens).
        order = sorted(missing, key=lambda key: -len(missing[key]))
        with _progress_bar(len(order), "embedding", progress, on_progress) as advance:
            # Batches of a few hundred: each is cached as soon as it is done, so an interrupted
            # build resumes where it stopped.
            step = max(256, getattr(embedder, "batch_size", 64) * 4 * getattr(embedder, "workers", 1))
            for start in range(0, len(order), step):
                chunk = order[start:start + step]
                matrix = _embed(embedder, [missing[key] for key in chunk], advance)
                batch = dict(zip(chunk, matrix, strict=True))
                known.update(batch)
                if cache is not None:
                    cache.put_many(batch)
    for row, key in enumerate(keys):
        out[row] = known[key]
    return out, len(missing)


def _embed(embedder: Embedder, texts: list[str], advance: Any) -> np.ndarray:
    if "progress" in inspect.signature(embedder.embed).parameters:
        return embedder.embed(texts, progress=advance)  # type: ignore[call-arg]
    matrix = embedder.embed(texts)  # an Embedder without progress reporting
    advance(len(texts))
    return matrix


@contextlib.contextmanager
def _progress_bar(total: int, label: str, enabled: bool,
                  on_progress: ProgressReport | None = None) -> Iterator[Callable[[int], None]]:
    """A tqdm bar (when ``enabled``) and ``on_progress`` calls, advanced by one function
    (called from embedding worker threads too)."""
    from tqdm.auto import tqdm

    done = 0
    lock = threading.Lock()
    with tqdm(total=total, desc=label, unit="doc", disable=not enabled, leave=False) as bar:
        def advance(count: int) -> None:
            nonlocal done
            with lock:
                done += count
                bar.update(count)
                if on_progress is not None:
                    on_progress(label, done, total)

        if on_progress is not None:
            on_progress(label, 0, total)
        yield advance


# ---------------------------------------------------------------------- files
def _columnar(catalog: Catalog) -> ColumnarCatalog | None:
    from chatrec.catalog.columnar import ColumnarCatalog

    return catalog if isinstance(catalog, ColumnarCatalog) else None


def _rebuild_hint(command: str) -> str:
    # The safe next step: a plain build replaces only a damaged index, built beside it and
    # swapped in; sessions, profiles and LLM summaries live elsewhere and are never touched by it.
    return (f"run `{command}`: it builds a fresh index beside this one and swaps it in "
            "(conversations, profiles and LLM summaries are kept)")


def _safe(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60]
    return cleaned or "catalog"


class _Place:
    """Where one catalog's index lives, and how a new one replaces it."""

    def __init__(self, settings: Settings, catalog_name: str, command: str | None = None):
        self.settings = settings
        self.name = _safe(catalog_name)
        #: the command that builds this index, and the hint that rebuilds it (error messages).
        self.command = command or build_command(catalog_name)
        self.rebuild_hint = _rebuild_hint(self.command)
        self.server = settings.chroma_url
        # A server index keeps its side files apart from an on-disk index of the same catalog.
        self.folder = settings.index_dir / (f"{self.name}@server" if self.server else self.name)
        self.collection_name = f"chatrec-{self.name}" if self.server else COLLECTION

    # ---- reading ----
    def recover(self) -> None:
        """Finish a swap that a crash interrupted between its two renames."""
        if self.folder.exists():
            return
        olds = sorted(self.folder.parent.glob(f".{self.folder.name}.old-*"))
        if olds:
            logger.warning("restoring %s from an interrupted rebuild", self.folder)
            os.replace(olds[-1], self.folder)

    def read_manifest(self) -> dict[str, Any]:
        path = self.folder / "manifest.json"
        if not self.folder.exists():
            raise IndexMissingError(f"no vector index for catalog {self.name!r} at {self.folder}; "
                                    f"run `{self.command}`")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not an object")
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"the index at {self.folder} is incomplete (no manifest); "
                                    f"{self.rebuild_hint}") from exc
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"the index manifest {path} is unreadable ({exc}); "
                                    f"{self.rebuild_hint}") from exc
        return manifest

    def client(self, folder: Path) -> Any:
        from chatrec.index.chroma import http_client, persistent_client

        if self.server:
            token = self.settings.chroma_token
            return http_client(self.server, token.get_secret_value() if token else None)
        return persistent_client(folder / "chroma")

    def open_collection(self, embedder: Embedder, manifest: dict[str, Any]
                        ) -> tuple[Any, Any, int]:
        chroma_dir = self.folder / "chroma"
        if not self.server and not (chroma_dir / "chroma.sqlite3").is_file():
            raise IndexCorruptError(f"the index at {self.folder} has no Chroma database; "
                                    f"{self.rebuild_hint}")
        if not self.server:
            # Chroma's native reader can crash the process on damaged HNSW files: look first.
            from chatrec.index.integrity import hnsw_problems

            try:
                problems = hnsw_problems(chroma_dir, embedder.dim)
            except (OSError, ValueError) as exc:
                problems = [str(exc)]
            if problems:
                raise IndexCorruptError(f"the index at {self.folder} is damaged ({problems[0]}); "
                                        f"{self.rebuild_hint}")
        client = None
        try:
            client = self.client(self.folder)
            collection = client.get_collection(self.collection_name,
                                               embedding_function=chroma_function(embedder))
            count = int(collection.count())
            if count != manifest.get("count"):
                raise ValueError(f"{count} items stored, {manifest.get('count')} recorded")
            if count:  # loads the HNSW segment: damage there shows now, not mid-conversation
                wanted = min(count, PROBE_RESULTS)
                found = collection.query(query_embeddings=[np.zeros(embedder.dim, np.float32) + 0.05],
                                         n_results=wanted, include=[])
                answered = len(found["ids"][0])
                if answered < wanted:
                    raise IndexCorruptError(
                        f"the index at {self.folder} counts {count} items but a search reaches only "
                        f"{answered} of {wanted} (a vector segment is missing or unreadable); {self.rebuild_hint}")
        except VectorIndexError:
            raise
        except Exception as exc:
            if not self.server:
                from chatrec.index.chroma import release_persistent

                release_persistent(chroma_dir, client)
            where = f"collection {self.collection_name!r} on {self.server}" if self.server \
                else str(self.folder)
            if self.server and "does not exist" in str(exc).lower():
                raise IndexMissingError(f"no {where}; run `{self.command}`") from exc
            raise IndexCorruptError(f"the index at {where} is unreadable ({exc}); "
                                    f"{self.rebuild_hint}") from exc
        return client, collection, count

    # ---- building ----
    def staging(self) -> Path:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.sweep()
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path = self.folder.parent / f".{self.folder.name}.build-{tag}"
        path.mkdir()
        return path

    def sweep(self) -> None:
        """Delete what interrupted builds left behind (only those whose process is gone)."""
        for leftover in self.folder.parent.glob(f".{self.folder.name}.build-*"):
            pid = leftover.name.rsplit(".build-", 1)[1].split("-", 1)[0]
            if pid.isdigit() and _alive(int(pid)):
                continue
            shutil.rmtree(leftover, ignore_errors=True)

    def staging_collection(self) -> str:
        return f"{self.collection_name}-build-{uuid.uuid4().hex[:8]}" if self.server else COLLECTION

    def commit(self, staging: Path, client: Any, staged_collection: str) -> None:
        """Swap the staged index in. On disk: two renames; on a server: drop the old collection,
        rename the new one (a reader in between sees "missing" briefly, never a half index)."""
        from chatrec.index.chroma import release_persistent

        with _lock(self.folder.parent / f".{self.folder.name}.lock"):
            if self.server:
                with contextlib.suppress(Exception):
                    client.delete_collection(self.collection_name)
                client.get_collection(staged_collection).modify(name=self.collection_name)
            else:
                release_persistent(staging / "chroma", client)
                release_persistent(self.folder / "chroma")  # this process's view of the old one
            old = None
            if self.folder.exists():
                old = self.folder.parent / f".{self.folder.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(self.folder, old)
            os.replace(staging, self.folder)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)

    def abandon(self, staging: Path, client: Any, staged_collection: str) -> None:
        from chatrec.index.chroma import release_persistent

        if self.server and client is not None:
            with contextlib.suppress(Exception):
                client.delete_collection(staged_collection)
        elif client is not None:
            release_persistent(staging / "chroma", client)
        shutil.rmtree(staging, ignore_errors=True)


class _Builder:
    """One fresh build: embed (through the cache), write a staged collection, swap it in."""

    def __init__(self, catalog: Catalog | ItemStream, settings: Settings, embedder: Embedder,
                 cache: EmbeddingCache | None, progress: bool,
                 on_progress: ProgressReport | None = None):
        self.catalog = catalog
        self.settings = settings
        self.embedder = embedder
        self.cache = cache if cache is not None else default_cache(settings, embedder)
        self.progress = progress
        self.on_progress = on_progress
        # A stream knows no source files: its command names it.
        spec = catalog if isinstance(catalog, Catalog) else catalog.name
        self.place = _Place(settings, catalog.name, build_command(spec))
        self.timings: dict[str, float] = {}

    def run(self) -> dict[str, float]:
        started = time.perf_counter()
        items = list(self.catalog)
        augmentations = Augmentations.load(self.settings, self.catalog.name)
        texts = [document_text(item, augmentations.items.get(item.id)) for item in items]
        metas = [document_metadata(item, text) for item, text in zip(items, texts, strict=True)]
        self.timings["documents"] = time.perf_counter() - started
        mark = time.perf_counter()
        vectors, embedded = embed_documents(texts, self.embedder, self.cache, self.progress,
                                            self.on_progress)
        self.timings["embedding"] = time.perf_counter() - mark
        mark = time.perf_counter()
        ids = [item.id for item in items]
        self.write([(ids, metas, vectors)], len(ids), augmentations.digest())
        self.timings["indexing"] = time.perf_counter() - mark
        logger.info("built index of %s: %d items, %d embedded, timings %s", self.catalog.name,
                    len(ids), embedded, {k: round(v, 2) for k, v in self.timings.items()})
        return self.timings

    def write(self, chunks: Iterable[tuple[list[str], list[dict[str, Any]], np.ndarray]], total: int,
              augmentation: str = "", hnsw: dict[str, Any] | None = None) -> None:
        """Write (ids, metadatas, vectors) chunks into a staged collection and side files, then
        swap them in. The vector file is filled chunk by chunk (never the whole matrix in RAM)."""
        staging = self.place.staging()
        staged = self.place.staging_collection()
        client = None
        try:
            client = self.place.client(staging)
            collection = self._create(client, staged, hnsw)
            all_ids: list[str] = []
            matrix = np.lib.format.open_memmap(staging / "vectors.npy", mode="w+", dtype=np.float32,
                                               shape=(total, self.embedder.dim))
            with _progress_bar(total, "indexing", self.progress, self.on_progress) as advance:
                step = min(batches.BATCH, _max_batch(client))
                for ids, metas, vectors in chunks:
                    for start in range(0, len(ids), step):
                        end = start + step
                        collection.add(ids=ids[start:end], embeddings=vectors[start:end],
                                       metadatas=metas[start:end])
                        advance(len(ids[start:end]))
                    matrix[len(all_ids):len(all_ids) + len(ids)] = vectors
                    all_ids.extend(ids)
            matrix.flush()
            del matrix
            count = int(collection.count())
            if count != total or len(all_ids) != total:
                raise VectorIndexError(f"staged index holds {count} of {total} items")
            with atomic_write(staging / "ids.json", "w", encoding="utf-8") as handle:
                json.dump(all_ids, handle)
            readable(staging / "vectors.npy", staging / "ids.json")
            manifest = {
                "format": FORMAT, "catalog": self.catalog.name,
                "fingerprint": self.catalog.fingerprint(), "model": self.embedder.name,
                "dim": self.embedder.dim, "count": count, "built_at": time.time(),
                "server": self.settings.chroma_url or "",
                "augmentation": augmentation,
            }
            write_json(staging / "manifest.json", manifest)
            self.place.commit(staging, client, staged)
        except BaseException:
            self.place.abandon(staging, client, staged)
            raise

    def _create(self, client: Any, name: str, hnsw: dict[str, Any] | None = None) -> Any:
        return client.create_collection(name, embedding_function=chroma_function(self.embedder),
                                        configuration={"hnsw": {"space": "cosine", **(hnsw or {})}},
                                        metadata={"catalog": self.catalog.name})


def _adapter(embedder: Embedder) -> Any:
    from chatrec.index.chroma import ChromaEmbedding

    return ChromaEmbedding(embedder)


def _max_batch(client: Any) -> int:
    try:
        return max(1, int(client.get_max_batch_size()))
    except Exception:  # older servers: Chroma's documented default
        return 1000


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes swapping the same index (no-op where fcntl is absent)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["ItemIndex", "UpsertReport", "embed_documents", "default_cache"]


def chroma_function(embedder: Embedder) -> Any:
    """Chroma's embedding function for ``embedder``: its own when it has one, else the adapter."""
    own = getattr(embedder, "as_chroma", None)
    return own() if callable(own) else _adapter(embedder)
