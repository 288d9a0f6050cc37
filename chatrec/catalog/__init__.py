"""Catalog: the ``Item`` model, interactions, loaders and data fetching."""

from chatrec.catalog.filters import ItemFilter
from chatrec.catalog.models import Catalog, Interactions, Item

__all__ = ["Catalog", "Interactions", "Item", "ItemFilter"]
