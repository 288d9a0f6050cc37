"""The composition root: load (or build, when missing) everything an agent stands on — catalog,
knowledge graph, entity linker, vector index, collaborative models — in one place."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatrec.catalog.models import Catalog, Interactions
from chatrec.config import Settings, get_settings
from chatrec.errors import IndexMissingError
from chatrec.protocols import Collaborative, Graph, Linker, VectorIndex

if TYPE_CHECKING:
    from chatrec.learn.models import LearntModels

logger = logging.getLogger(__name__)


@dataclass
class Resources:
    """Everything the agent reads. ``index`` and ``collab`` may be None (custom catalogs without
    interactions, or an index deliberately left out), and the agent then does without them."""

    settings: Settings
    catalog: Catalog
    kg: Graph
    linker: Linker
    index: VectorIndex | None = None
    collab: Collaborative | None = None
    learnt: LearntModels | None = None   # what ``chatrec build`` learnt (None: nothing)
    timings_s: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, catalog: str | Catalog = "movielens", settings: Settings | None = None, *,
             build_missing: bool = True, with_index: bool = True, with_collab: bool = True,
             with_learnt: bool = True, progress: bool = False,
             interactions: Interactions | None = None, index_in_background: bool = False) -> Resources:
        """Load the resources for a catalog spec ("movielens", "redial", a JSONL/CSV path) or an
        already-loaded ``Catalog``. Missing data, KG or index are built when ``build_missing``;
        with ``index_in_background`` a missing index is built in a background thread while the
        rest is used at once (``chatrec.index.background.BackgroundIndex``).

        ``interactions``: learn from this log instead of the catalog's own (the training split of
        an evaluation, whose held-out ratings must reach nothing the agent uses). Popularity and
        mean ratings are recomputed from it, the knowledge graph (which carries popularity) and
        the collaborative models are fitted on it and never cached or read from the caches of
        the full data; only the vector index, which holds no interaction data, is shared. Any
        learnt component added here must follow the same rule: fitted on ``catalog.interactions``
        of the returned resources (or cached under that log's fingerprint), never read from a
        build made on other data."""
        from chatrec.catalog import load_catalog
        from kg.graph import KnowledgeGraph, open_graph
        from kg.linker import EntityLinker

        settings = settings or get_settings()
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if isinstance(catalog, Catalog):
            cat = catalog
        else:
            cat = load_catalog(catalog, settings, progress=progress)
        held_out = interactions is not None
        if interactions is not None:
            cat = cat.with_interactions(interactions)
        timings["catalog"] = time.perf_counter() - started

        started = time.perf_counter()
        kg = KnowledgeGraph.build(cat) if held_out else open_graph(cat, settings)
        linker = EntityLinker(kg, cat, settings=settings)   # its lexicon cache is under these settings
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
                if index_in_background:
                    from chatrec.index.background import BackgroundIndex

                    logger.warning("no index for catalog %s yet: building it in the background",
                                   cat.name)
                    # Started once the rest is loaded: the agent comes first.
                    index = BackgroundIndex(cat, settings, progress=progress)
                else:
                    logger.warning("no index for catalog %s yet: building it", cat.name)
                    index = ItemIndex.build(cat, settings, progress=progress)
            timings["index"] = time.perf_counter() - started

        collab = None
        if with_collab and cat.interactions is not None and len(cat.interactions):
            from chatrec.collab import fit, load_or_fit

            started = time.perf_counter()
            # A held-out fit is never cached: its file would replace the full data's.
            collab = fit(cat.interactions) if held_out else load_or_fit(cat, settings)
            timings["collab"] = time.perf_counter() - started
        start = getattr(index, "start", None)
        if callable(start):
            start()
        resources = cls(settings=settings, catalog=cat, kg=kg, linker=linker, index=index,
                        collab=collab, timings_s=timings)
        if with_learnt:
            from chatrec.learn import load_or_learn

            started = time.perf_counter()
            if held_out:
                from chatrec.learn import learn

                # Learnt from the given log only, and never stored over the full data's models.
                resources.learnt = learn(resources, progress=progress)
            else:
                # Not learnt while the index is still being built: the ranker would never have seen
                # vector scores. Until `chatrec build` learns it, the hand-set fusion ranks.
                resources.learnt = load_or_learn(resources, build_missing=build_missing and not index_in_background,
                                                 progress=progress)
            timings["learnt"] = time.perf_counter() - started
        return resources
