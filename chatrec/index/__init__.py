"""The vector index of a catalog: offline embeddings, a Chroma collection, hard filters.

    >>> index = ItemIndex.build(catalog, settings)          # or ItemIndex.open(catalog, settings)
    >>> index.query("space exploration and time", k=10, flt=ItemFilter(year_min=2000))
    [('109487', 0.61), ...]
"""

from chatrec.index.embedder import Embedder, MiniLMEmbedder, default_embedder
from chatrec.index.store import ItemIndex, UpsertReport

__all__ = ["Embedder", "ItemIndex", "MiniLMEmbedder", "UpsertReport", "default_embedder"]
