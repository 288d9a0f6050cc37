"""``Resources`` for a small catalog without the data directory or the MiniLM model: the
catalog's knowledge graph, entity linker, collaborative models, and a real Chroma index on disk
whose embedder is the deterministic word hashing of ``HashEmbedder``."""

from __future__ import annotations

from chatrec.catalog.models import Catalog
from chatrec.config import Settings
from chatrec.resources import Resources


def hashed_resources(catalog: Catalog, settings: Settings) -> Resources:
    """Everything an agent needs for ``catalog``, built under ``settings.home`` in seconds.
    Close ``resources.index`` when done."""
    from chatrec.collab import load_or_fit
    from chatrec.index import ItemIndex
    from chatrec.testing.small_index import HashEmbedder
    from kg.graph import KnowledgeGraph
    from kg.linker import EntityLinker

    kg = KnowledgeGraph.load_or_build(catalog, settings)
    index = ItemIndex.build(catalog, settings, embedder=HashEmbedder(), progress=False, cache=None)
    return Resources(settings=settings, catalog=catalog, kg=kg, linker=EntityLinker(kg, catalog, settings=settings),
                     index=index, collab=load_or_fit(catalog, settings))
