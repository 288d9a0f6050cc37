"""The composition root: load (or build, when missing) everything an agent stands on — catalog,
knowledge graph, entity linker, vector index, collaborative models — in one place."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from chatrec.catalog.models import Catalog
from chatrec.config import Settings, get_settings
from chatrec.errors import IndexMissingError

logger = logging.getLogger(__name__)


@dataclass
class Resources:
    """Everything the agent reads. ``index`` and ``collab`` may be None (custom catalogs without
    interactions, or an index deliberately left out), and the agent then does without them."""

    settings: Settings
    catalog: Catalog
    kg: object
    linker: object
    index: object | None = None
    collab: object | None = None
    timings_s: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, catalog: str | Catalog = "movielens", settings: Settings | None = None, *,
             build_missing: bool = True, with_index: bool = True, with_collab: bool = True,
             progress: bool = False) -> Resources:
        """Load the resources for a catalog spec ("movielens", "redial", a JSONL/CSV path) or an
        already-loaded ``Catalog``. Missing data, KG or index are built when ``build_missing``."""
        from chatrec.catalog import load_catalog
        from kg.graph import KnowledgeGraph
        from kg.linker import EntityLinker

        settings = settings or get_settings()
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if isinstance(catalog, Catalog):
            cat = catalog
        else:
            cat = load_catalog(catalog, settings, progress=progress)
        timings["catalog"] = time.perf_counter() - started

        started = time.perf_counter()
        kg = KnowledgeGraph.load_or_build(cat, settings)
        linker = EntityLinker(kg, cat)
        timings["kg"] = time.perf_counter() - started

        index = None
        if with_index:
            from chatrec.index import ItemIndex

            started = time.perf_counter()
            try:
                index = ItemIndex.open(cat, settings)
            except IndexMissingError:
                if not build_missing:
                    raise
                logger.warning("no index for catalog %s yet: building it", cat.name)
                index = ItemIndex.build(cat, settings, progress=progress)
            timings["index"] = time.perf_counter() - started

        collab = None
        if with_collab and cat.interactions is not None and len(cat.interactions):
            from chatrec.collab import load_or_fit

            started = time.perf_counter()
            collab = load_or_fit(cat, settings)
            timings["collab"] = time.perf_counter() - started
        return cls(settings=settings, catalog=cat, kg=kg, linker=linker, index=index,
                   collab=collab, timings_s=timings)
