"""A small real index for tests of any room: a few hundred MovieLens movies, built once.

    >>> catalog = small_catalog(settings)                # ~330 real movies incl. Interstellar
    >>> index = build_small_index(catalog, settings)     # seconds with a warm embedding cache

``cache_root`` (a folder that outlives one test session, e.g. pytest's cache dir) keeps the ONNX
model file and the document embeddings between sessions, so only the first run pays for the
export (~15 s) and the embedding (~15 s).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chatrec.catalog.models import Catalog
from chatrec.config import Settings
from chatrec.index.cache import EmbeddingCache
from chatrec.index.embedder import MiniLMEmbedder, normalise
from chatrec.index.store import ItemIndex

#: Movies every small catalog holds, whatever their popularity (tests name them).
ANCHORS = ("Interstellar", "Gravity", "The Martian", "Moon", "Solaris", "Heat", "Alien")
SMALL_NAME = "movielens-small"


def small_catalog(settings: Settings, size: int = 300, name: str = SMALL_NAME) -> Catalog:
    """The ``size`` most-rated MovieLens movies, the ``ANCHORS``, and a few movies without a
    year (they must fail year filters). Deterministic."""
    from chatrec.catalog.loader import load_catalog

    full = load_catalog("movielens", settings)
    ids = [item.id for item in full.popular(size)]
    for title in ANCHORS:
        ids.extend(item.id for item in full.find_title(title)[:1])
    ids.extend(sorted((item.id for item in full if item.year is None), key=int)[:3])
    return full.subset(list(dict.fromkeys(ids)), name=name)


def shared_embedder(settings: Settings, cache_root: Path | None = None) -> MiniLMEmbedder:
    """An embedder whose ONNX file lives under ``cache_root`` (or the settings' cache)."""
    return _embedders.setdefault(
        (str(cache_root), str(settings.cache_dir), settings.embed_threads),
        MiniLMEmbedder(settings, model_cache_dir=cache_root / "models" if cache_root else None))


_embedders: dict[tuple[str, str, int], MiniLMEmbedder] = {}


def embedding_cache(settings: Settings, embedder: MiniLMEmbedder,
                    cache_root: Path | None = None) -> EmbeddingCache:
    root = cache_root / "embeddings" if cache_root else settings.cache_dir / "embeddings"
    return EmbeddingCache(root, embedder.name, embedder.dim)


def build_small_index(catalog: Catalog, settings: Settings, cache_root: Path | None = None,
                      rebuild: bool = False) -> ItemIndex:
    """Build (or bring up to date) the index of ``catalog`` under ``settings.index_dir``.

    Args:
        catalog: usually ``small_catalog(settings)``.
        settings: the test's settings (its ``CHATREC_HOME``).
        cache_root: a folder kept between test sessions for the model file and embeddings.
        rebuild: build from scratch even if the index exists.
    """
    embedder = shared_embedder(settings, cache_root)
    cache = embedding_cache(settings, embedder, cache_root)
    return ItemIndex.build(catalog, settings, embedder=embedder, rebuild=rebuild, progress=False,
                           cache=cache)


class HashEmbedder:
    """A fast, deterministic bag-of-words embedder (feature hashing of lowercase words).

    Not a semantic model: it exists for tests of the index's mechanics (damage, rebuilds,
    thousands of items) where all-MiniLM-L6-v2 would spend minutes embedding.
    """

    name = "hash-bow-384"
    dim = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            out[row, 0] += 1e-3  # an empty text still gets a unit vector
        return normalise(out)
