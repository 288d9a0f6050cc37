"""Catalogs and agent resources with held-out interactions, so that an evaluated item is unknown
to everything the agent learns from (collaborative models, popularity, the user's history).

The items' documents do not change (only their popularity and mean rating are recomputed from the
remaining interactions), so the catalog's vector index is reused as is: its documents carry no
interaction data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from chatrec.catalog.models import Catalog, Interactions
from chatrec.config import Settings

logger = logging.getLogger(__name__)


def with_interactions(
    catalog: Catalog, interactions: Interactions, name: str | None = None
) -> Catalog:
    """``catalog`` with other interactions, each item's popularity and mean rating recomputed from
    them (so a held-out rating leaks through neither)."""
    counts = interactions.item_counts
    means = interactions.item_means
    items = [
        item.model_copy(
            update={
                "popularity": int(counts.get(item.id, 0)),
                "mean_rating": round(means[item.id], 3) if item.id in means else None,
            }
        )
        for item in catalog
    ]
    return Catalog(name or catalog.name, items, interactions, catalog.sources)


def heldout_catalog(catalog: Catalog, pairs: Iterable[tuple[str, str]]) -> Catalog:
    """``catalog`` without the (user, item) interactions in ``pairs``."""
    assert catalog.interactions is not None, "the catalog has no interactions to hold out"
    return with_interactions(catalog, catalog.interactions.without(pairs))


def resources_for(
    catalog: Catalog,
    settings: Settings,
    index_catalog: Catalog | None = None,
    with_index: bool = True,
    index=None,
):
    """``Resources`` for a derived catalog: KG and linker built from it, collaborative models fitted
    on its interactions (never cached: they are specific to this hold-out), and the vector index of
    the catalog it derives from (same name, same documents).

    Args:
        catalog: the held-out catalog.
        settings: where the index lives.
        index_catalog: the catalog the index was built for (default ``catalog``).
        with_index: False leaves the index out (the agent then runs without vector retrieval).
        index: an already-open index to share.
    """
    from chatrec import collab
    from chatrec.resources import Resources
    from kg.graph import KnowledgeGraph
    from kg.linker import EntityLinker

    kg = KnowledgeGraph.build(catalog)
    linker = EntityLinker(kg, catalog)
    if index is None and with_index:
        from chatrec.index import ItemIndex

        index = ItemIndex.open(index_catalog or catalog, settings)
    models = collab.fit(catalog.interactions) if catalog.interactions is not None else None
    return Resources(
        settings=settings, catalog=catalog, kg=kg, linker=linker, index=index, collab=models
    )
