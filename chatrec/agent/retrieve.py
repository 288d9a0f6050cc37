"""Candidate retrieval: small sources with one ``__call__`` each, fused in one place.

Every source maps a ``RetrievalQuery`` to ``{item_id: score}`` (higher is better). The ``Retriever``
normalises each source within the rows that pass the hard filters, fuses them with weights that
depend on what the query holds, applies soft preferences (refinements, disliked attributes) and
returns candidates that remember which sources found them and with what score.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from pydantic import BaseModel

from chatrec.agent import patterns as P
from chatrec.agent.models import Constraints
from chatrec.agent.table import ItemTable
from chatrec.index.aspects import aspect_text
from kg.models import DIRECTED_BY, HAS_KEYWORD, MADE_BY, PERSON, STARS, WRITTEN_BY, node_kind

logger = logging.getLogger(__name__)


@dataclass
class RetrievalQuery:
    """What to retrieve for.

    Attributes:
        seeds: liked items → weight (session likes weigh more than long-ago history).
        disliked_items: items the user disliked (their neighbours are pushed down a little).
        liked_attributes / disliked_attributes: KG nodes (person:, genre:, keyword:).
        constraints: hard ones are never violated; soft ones rank the items meeting them first.
        text: free text for the vector index ("" = none).
        user_id: raw interaction user id for collaborative signals (None = anonymous).
        exclude: items never to return.
        refinements: soft modifiers (lighter, darker, simpler, popular, obscure).
    """

    seeds: dict[str, float] = field(default_factory=dict)
    disliked_items: list[str] = field(default_factory=list)
    liked_attributes: list[str] = field(default_factory=list)
    disliked_attributes: list[str] = field(default_factory=list)
    constraints: Constraints = field(default_factory=Constraints)
    text: str = ""
    user_id: str | None = None
    exclude: set[str] = field(default_factory=set)
    refinements: list[str] = field(default_factory=list)


class Source(Protocol):
    name: str

    def __call__(self, query: RetrievalQuery) -> dict[str, float] | np.ndarray:
        """Scores by item id, or a dense array aligned with the catalog order."""
        ...


class VectorSource:
    """Chroma similarity between the query text and item documents."""

    name = "vector"

    def __init__(self, index, k: int = 200):
        self.index = index
        self.k = k

    def __call__(self, query: RetrievalQuery) -> dict[str, float]:
        # What the request is about, without its request words: "a good movie for tonight" asks
        # for nothing a film's text could match (and would match titles).
        text = aspect_text(query.text) if query.text else ""
        if not text or self.index is None:
            return {}
        return dict(self.index.query(text, k=self.k, flt=query.constraints.excluding(query.exclude)))


class ContentSource:
    """Embedding similarity to the liked items: the index's nearest neighbours of their mean
    vector (an exact scan of the memory-mapped matrix on a small index, HNSW on a large one)."""

    name = "content"

    def __init__(self, index, table: ItemTable):
        self.table = table
        self.index = index
        self._usable = False
        self._check()

    def _check(self) -> None:
        """Read the index's vectors once it has them: an index still being built in the
        background says ``ready`` False until then, and this source contributes nothing."""
        if self._usable or self.index is None or not getattr(self.index, "ready", True):
            return
        try:
            self.index.vectors()
        except Exception:  # noqa: BLE001 - an index without vectors just disables this source
            logger.warning("item vectors unavailable; content similarity off", exc_info=True)
            self.index = None
            return
        self._usable = True

    def __call__(self, query: RetrievalQuery) -> dict[str, float]:
        self._check()
        if self.index is None or not self._usable or not query.seeds:
            return {}
        profile: np.ndarray | None = None
        for item_id, weight in query.seeds.items():
            vector = self.index.vector(item_id) if item_id in self.table.pos else None
            if vector is not None:
                profile = weight * vector if profile is None else profile + weight * vector
        norm = float(np.linalg.norm(profile)) if profile is not None else 0.0
        if profile is None or norm == 0:
            return {}
        return {item_id: score for item_id, score in self.index.nearest(profile / norm, 300)
                if score > 0 and item_id in self.table.pos}


class CollaborativeSource:
    """Personalized PageRank over the user–item graph plus item co-rating neighbours."""

    name = "collab"

    def __init__(self, collab):
        self.collab = collab

    def __call__(self, query: RetrievalQuery) -> dict[str, float]:
        if self.collab is None or (not query.seeds and not query.user_id):
            return {}
        scores: dict[str, float] = {}
        try:
            ppr = self.collab.ppr.scores(query.seeds, user_id=query.user_id, k=300)
        except Exception:  # noqa: BLE001
            logger.exception("personalized PageRank failed")
            ppr = {}
        top = max(ppr.values(), default=0.0)
        for item_id, value in ppr.items():
            scores[item_id] = value / top if top > 0 else 0.0
        if query.seeds:
            try:
                co = self.collab.cooccur.similar(query.seeds, k=300)
            except Exception:  # noqa: BLE001
                logger.exception("co-rating similarity failed")
                co = {}
            top = max(co.values(), default=0.0)
            for item_id, value in co.items():
                if top > 0:
                    scores[item_id] = scores.get(item_id, 0.0) + 0.7 * value / top
        return scores


class FactorSource:
    """Implicit-feedback matrix factorisation (``chatrec.collab.factors``) folded in from the
    seeds of a user with an interaction history: their recent liked films plus what they liked in
    the session.

    Only for such users: for them it is the strongest collaborative signal (MovieLens validation
    NDCG@10 0.050 → 0.073), but from the films a dialogue mentions (ReDial replay, no history) it
    lowered R@10 from 0.186 to 0.174 on 120 dialogues.
    """

    name = "mf"

    def __init__(self, collab):
        self.factors = getattr(collab, "factors", None)

    def __call__(self, query: RetrievalQuery) -> dict[str, float]:
        if self.factors is None or not query.seeds or not query.user_id:
            return {}
        try:
            return self.factors.scores(query.seeds, k=300)
        except Exception:  # noqa: BLE001 - one failing source must not sink the turn
            logger.exception("matrix factorisation scores failed")
            return {}


class KnowledgeGraphSource:
    """Items sharing informative entities (people, keywords) with liked items and attributes.

    Precomputed as a sparse item × entity matrix whose entries are 1/sqrt(log2(1 + degree)), so
    that two items sharing an entity score 1/log2(1 + degree): a shared director says more than a
    shared keyword half the catalog has. A turn is two sparse products, not a graph walk.
    """

    name = "kg"
    RELATIONS = (DIRECTED_BY, STARS, WRITTEN_BY, MADE_BY, HAS_KEYWORD)
    MAX_DEGREE = 400
    ATTRIBUTE_WEIGHT = 2.0

    def __init__(self, kg, table: ItemTable):
        from scipy import sparse

        self.kg = kg
        self.table = table
        entity_matrix = getattr(kg, "entity_matrix", None)
        if entity_matrix is not None:            # a columnar graph builds it from its columns
            self.matrix, self.columns = entity_matrix(self.RELATIONS, self.MAX_DEGREE)
            self.matrix_t = self.matrix.T.tocsr()
            return
        columns: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for row, item_id in enumerate(table.ids):
            for node in kg.entities_of(item_id, relations=self.RELATIONS):
                degree = kg.degree(node)
                if degree <= 1 or degree > self.MAX_DEGREE:
                    continue
                col = columns.setdefault(node, len(columns))
                rows.append(row)
                cols.append(col)
                vals.append(1.0 / math.sqrt(math.log2(1 + degree)))
        self.columns = columns
        self.matrix = sparse.csr_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)),
                                        shape=(len(table), max(len(columns), 1)))
        self.matrix_t = self.matrix.T.tocsr()

    def __call__(self, query: RetrievalQuery) -> np.ndarray | dict[str, float]:
        # Only the seeds' rows and the entities they reach are multiplied (not the whole matrix
        # twice: a million rows cost ~100 ms a turn that way).
        rows, weights = [], []
        for item_id, weight in query.seeds.items():
            row = self.table.pos.get(item_id)
            if row is not None:
                rows.append(row)
                weights.append(weight)
        entities = (np.asarray(self.matrix[rows].T @ np.asarray(weights, dtype=np.float32), dtype=np.float32)
                    if rows else np.zeros(max(len(self.columns), 1), dtype=np.float32))   # one per matrix column
        for node in query.liked_attributes:
            col = self.columns.get(node)
            if col is not None and node_kind(node) in (PERSON, "keyword"):
                entities[col] += self.ATTRIBUTE_WEIGHT / self.matrix.data.max(initial=1.0)
        if not entities.any():
            return {}
        reached = np.flatnonzero(entities)
        return np.asarray(self.matrix_t[reached].T @ entities[reached], dtype=np.float32)


class FusionWeights(BaseModel):
    """How much each source counts. Chosen on validation runs, never on a test split."""

    collab: float = 1.0
    mf: float = 1.0
    content: float = 0.45
    kg: float = 0.35
    vector: float = 0.7
    popularity: float = 0.12
    popularity_cold: float = 0.5     # when nothing personal is known
    liked_attribute: float = 0.35    # bonus for items having a liked attribute
    disliked_attribute: float = 0.5  # penalty for items having a disliked attribute
    preferred: float = 0.5           # bonus per soft constraint an item meets (a request of earlier on)
    refinement: float = 0.25


@dataclass
class Signals:
    """What the sources say about every catalog row for one query.

    Attributes:
        mask: rows passing the hard constraints and not excluded.
        per_source: source name → scores in [0, 1] (normalised within ``mask``).
        fused: the hand-weighted fusion (``-inf`` outside ``mask``).
        corrections: what the user asked to change (disliked attributes, refinements such as
            "lighter"), already in ``fused``; a ranker applies them on top of its own order.
    """

    mask: np.ndarray
    per_source: dict[str, np.ndarray]
    fused: np.ndarray
    corrections: np.ndarray | None = None


class Ranker(Protocol):
    """Orders the fused candidates of a query (``chatrec.learn.ranker.LearntRanker``)."""

    def order(self, query: RetrievalQuery, signals: Signals, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows and their scores, best first."""
        ...


@dataclass
class Candidate:
    item_id: str
    score: float
    sources: dict[str, float]


class Retriever:
    """Runs the sources and fuses them.

    Args:
        table: the catalog's column view.
        sources: retrieval sources (vector, content, collab, kg, and any extra, e.g. dialogue
            co-mentions learnt from training dialogues).
        weights: fusion weights; extra sources are weighted by ``extra_weights``.
        ranker: orders the fused candidates (a learnt ranker); None keeps the fusion's order.
    """

    def __init__(self, table: ItemTable, sources: list, weights: FusionWeights | None = None,
                 extra_weights: dict[str, float] | None = None, ranker: Ranker | None = None):
        self.table = table
        self.ranker = ranker
        self.sources = sources
        self.weights = weights or FusionWeights()
        self.extra_weights = dict(extra_weights or {})

    def _weight(self, name: str) -> float:
        if name in self.extra_weights:
            return self.extra_weights[name]
        return float(getattr(self.weights, name, 0.5))

    def signals(self, query: RetrievalQuery, timings: dict[str, float] | None = None) -> Signals | None:
        """Every source's scores for ``query`` (normalised within the rows passing the hard
        filters) and their hand-weighted fusion; None when no row passes."""
        table = self.table
        mask = table.mask(query.constraints, query.exclude)
        if not mask.any():
            return None
        fused = np.zeros(len(table), dtype=np.float32)
        per_source: dict[str, np.ndarray] = {}
        personal = bool(query.seeds or query.user_id or query.liked_attributes or query.text)
        for source in self.sources:
            started = time.perf_counter()
            try:
                raw = source(query)
            except Exception:  # noqa: BLE001 - one failing source must not sink the turn
                logger.exception("retrieval source %s failed", source.name)
                raw = {}
            if timings is not None:
                timings[f"retrieve.{source.name}"] = (time.perf_counter() - started) * 1000
            if isinstance(raw, np.ndarray):
                dense = raw.astype(np.float32, copy=False)
            elif not raw:
                continue
            else:
                dense = table.dense(raw)
            allowed_max = float(dense[mask].max())
            if allowed_max <= 0:
                continue
            normed = np.clip(dense / allowed_max, 0.0, 1.0)
            per_source[source.name] = normed
            fused += self._weight(source.name) * normed
        w = self.weights
        pop_weight = w.popularity if personal else w.popularity_cold
        fused += pop_weight * table.popularity
        per_source["popularity"] = table.popularity
        liked, corrections = self._attribute_adjustments(query)
        fused += liked + corrections
        return Signals(mask=mask, per_source=per_source, fused=np.where(mask, fused, -np.inf),
                       corrections=corrections)

    def retrieve(self, query: RetrievalQuery, k: int, timings: dict[str, float] | None = None,
                 ) -> list[Candidate]:
        signals = self.signals(query, timings)
        if signals is None:
            return []
        count = int(min(k, signals.mask.sum()))
        if count <= 0:
            return []
        if self.ranker is not None:
            started = time.perf_counter()
            rows, scores = self.ranker.order(query, signals, count)
            if timings is not None:
                timings["retrieve.ranker"] = (time.perf_counter() - started) * 1000
        else:
            fused = signals.fused
            rows = np.argpartition(-fused, count - 1)[:count]
            rows = rows[np.argsort(-fused[rows], kind="stable")]
            scores = fused[rows]
        out = []
        for row, score in zip(rows, scores, strict=True):
            sources = {name: round(float(arr[row]), 4) for name, arr in signals.per_source.items()
                       if arr[row] > 0}
            out.append(Candidate(self.table.ids[int(row)], float(score), sources))
        return out

    def _attribute_adjustments(self, query: RetrievalQuery) -> tuple[np.ndarray, np.ndarray]:
        """(bonus for liked attributes, corrections the user asked for: disliked attributes, soft
        constraints and refinements such as "lighter")."""
        table = self.table
        w = self.weights
        liked = np.zeros(len(table), dtype=np.float32)
        for node in query.liked_attributes:
            kind, _, value = node.partition(":")
            if kind == "genre":
                liked += w.liked_attribute * table.genre_mask(value)
            elif kind == PERSON:
                liked += w.liked_attribute * table.person_mask(table.kg.label(node))
        adjust = np.zeros(len(table), dtype=np.float32)
        for node in query.disliked_attributes:
            kind, _, value = node.partition(":")
            if kind == "genre":
                adjust -= w.disliked_attribute * table.genre_mask(value)
            elif kind == PERSON:
                adjust -= w.disliked_attribute * table.person_mask(table.kg.label(node))
            elif kind == "keyword":
                adjust[table.rows_with(node)] -= w.disliked_attribute
        for clause in query.constraints.preferred():
            # an earlier request, no longer a filter: the films meeting it still come first
            adjust += w.preferred * table.masks.clause_mask(clause)
        for label in query.refinements:
            if label == "lighter":
                for genre in P.LIGHT_GENRES:
                    adjust += w.refinement * table.genre_mask(genre)
                for genre in P.DARK_GENRES:
                    adjust -= w.refinement * table.genre_mask(genre)
            elif label == "darker":
                for genre in P.DARK_GENRES:
                    adjust += w.refinement * table.genre_mask(genre)
                for genre in P.LIGHT_GENRES:
                    adjust -= w.refinement * table.genre_mask(genre)
            elif label == "simpler":
                for keyword in P.COMPLEX_KEYWORDS:
                    adjust[table.rows_with(f"keyword:{keyword}")] -= w.refinement
                adjust -= w.refinement * 0.5 * table.genre_mask("mystery")
            elif label == "popular":
                adjust += 2 * w.refinement * table.popularity
            elif label == "obscure":
                adjust -= 2 * w.refinement * table.popularity
        return liked, adjust
