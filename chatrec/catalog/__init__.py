"""Catalog: the ``Item`` model, interactions, loaders and data fetching.

``load_catalog("movielens" | "redial" | "path/to/catalog.jsonl")`` is the one entry point the
other rooms need; ``ensure_data`` finds or downloads the public data it is built from.
"""

from chatrec.catalog.constraints import Constraints, ItemFilter
from chatrec.catalog.fetch import ensure_data
from chatrec.catalog.genres import GENRES, canonical_genre
from chatrec.catalog.loader import load_catalog
from chatrec.catalog.models import Catalog, Interactions, Item

__all__ = ["GENRES", "Catalog", "Constraints", "Interactions", "Item", "ItemFilter", "canonical_genre",
           "ensure_data", "load_catalog"]
