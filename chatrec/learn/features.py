"""The learnt ranker's view of a candidate: what each retrieval source said about it, what kind
of film it is (how known, how well rated, how old), how it matches the request, and what the
dialogue holds. One row per (query, candidate); the same code builds training rows at build time
and scoring rows in a turn, so they cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chatrec.learn.genres import GenreProfile
from kg.models import PERSON

if TYPE_CHECKING:
    from chatrec.agent.retrieve import RetrievalQuery, Signals

#: Sources whose scores are features (a source a catalog lacks is all zeros).
SOURCES = ("vector", "content", "collab", "mf", "kg", "comention", "mention_pop", "mention_genre",
           "neighbours", "aspects", "mention_any")
#: How many candidates the ranker orders: the fusion's best, plus each source's best (ReDial
#: validation fold: reachable gold among the candidates 409 → 437 of 656 from 25 to 50 per source).
POOL = 150
PER_SOURCE = 50
#: A film rated at least this often counts as well known (the request suite's threshold).
WELL_KNOWN = 10
UNRANKED = 1023.0
#: Hidden gems: a rating counts fully from this many ratings on; fame (log popularity over the
#: catalog's highest) above ``GEM_FAME`` costs ``GEM_FAME_PENALTY`` per unit (MovieLens: about 25
#: ratings of 330 for the most rated film).
GEM_EVIDENCE = 10.0
GEM_FAME = 0.55
GEM_FAME_PENALTY = 1.5

FEATURES: tuple[str, ...] = (
    *(f"{s}.score" for s in SOURCES),
    *(f"{s}.rank" for s in SOURCES),
    "fused.score", "fused.rank",
    "item.log_popularity", "item.bayes_rating", "item.well_known", "item.year",
    "item.year_to_request", "item.year_to_liked",
    "match.aspects", "match.aspect_share", "match.liked_attributes", "match.disliked_attributes",
    "match.kg_paths", "match.genre_profile",
    "query.seeds", "query.context", "query.aspects", "query.constraints", "query.known_user",
    "query.liked_attributes", "query.obscure",
)


class ItemPriors:
    """Per-row arrays of what is known about each film before any request.

    The Bayesian average shrinks a film's mean rating towards the catalog's mean by ``strength``
    pseudo-ratings, so a 5.0 from two people does not beat a 4.3 from two hundred.
    """

    def __init__(self, table, strength: float | None = None):
        catalog = table.catalog
        counts = np.maximum(catalog.popularity_array(), 0).astype(np.float32)
        means = catalog.mean_rating_array()
        rated = ~np.isnan(means) & (counts > 0)
        if rated.any():
            global_mean = float(np.average(means[rated], weights=counts[rated]))
            c = strength if strength is not None else float(max(5.0, np.median(counts[rated])))
            n = np.where(rated, counts, 0.0)
            bayes = (c * global_mean + n * np.nan_to_num(means)) / (c + n)
        else:
            global_mean, c, bayes = 0.0, 0.0, np.full(len(counts), np.nan, dtype=np.float32)
        self.counts = counts
        self.log_popularity = np.log1p(counts)
        self.bayes_rating = bayes.astype(np.float32)
        self.global_mean = global_mean
        self.well_known = counts >= WELL_KNOWN
        #: The films an open request shows first: the well-known ones, and any the catalog's
        #: other evidence says people know (``add_known``). Not a feature: it may grow after
        #: the ranker was trained.
        self.known = self.well_known.copy()
        self.has_counts = bool(counts.max(initial=0) > 0)
        self.years = np.where(table.years > 0, table.years, np.nan).astype(np.float32)
        spread = float(np.nanstd(bayes)) if rated.any() else 0.0
        pop = self.log_popularity / max(float(self.log_popularity.max(initial=0)), 1e-9)
        rating = np.nan_to_num((bayes - global_mean) / spread) if spread > 0 else np.zeros_like(pop)
        #: The quality prior: known and well rated, in about [-0.5, 1.5].
        self.quality = (pop + 0.25 * np.clip(rating, -2, 2)).astype(np.float32)
        #: The prior for hidden gems ("underrated", "less known"): rated well by the people who
        #: saw it, and not famous; a film seen by one or two people is no gem for lack of evidence.
        evidence = np.minimum(1.0, counts / GEM_EVIDENCE)
        self.gem = (0.5 * np.clip(rating, -2, 2) * evidence
                    - GEM_FAME_PENALTY * np.maximum(0.0, pop - GEM_FAME)).astype(np.float32)


    def add_known(self, rows) -> None:
        """Count these rows as known to people (films human recommenders often suggest)."""
        self.known[np.asarray(list(rows), dtype=np.int64)] = True


class FeatureBuilder:
    """Rows of ``FEATURES`` for a query's candidate pool.

    Args:
        table: the agent's ``ItemTable``.
        kg_matrix: the KG source's item × entity matrix (its non-zeros are the informative
            entities of each item), for counting KG paths to liked items; None skips them.
        aspects: the ``AspectIndex`` (None: no aspect features).
    """

    def __init__(self, table, kg_matrix=None, aspects=None):
        self.table = table
        self.priors = ItemPriors(table)
        self.aspects = aspects
        self.genres = GenreProfile(table)
        self.kg_binary = None
        if kg_matrix is not None:
            binary = kg_matrix.copy()
            binary.data[:] = 1.0
            self.kg_binary = binary.tocsr()
            self.kg_binary_t = binary.T.tocsr()

    def pool(self, signals: Signals) -> np.ndarray:
        """Candidate rows: the fusion's best ``POOL`` plus each source's best ``PER_SOURCE``,
        all passing the hard filters."""
        mask = signals.mask
        allowed = int(mask.sum())
        fused = signals.fused
        count = min(POOL, allowed)
        rows = [np.argpartition(-fused, count - 1)[:count]] if count > 0 else []
        for name in SOURCES:
            scores = signals.per_source.get(name)
            if scores is None:
                continue
            masked = np.where(mask, scores, 0.0)
            take = min(PER_SOURCE, allowed)
            top = np.argpartition(-masked, take - 1)[:take]
            rows.append(top[masked[top] > 0])
        if not rows:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(rows))

    def build(self, query: RetrievalQuery, signals: Signals, rows: np.ndarray) -> np.ndarray:
        n = len(rows)
        columns: dict[str, np.ndarray] = {}
        for name in SOURCES:
            scores = signals.per_source.get(name)
            values = scores[rows] if scores is not None else np.zeros(n, dtype=np.float32)
            columns[f"{name}.score"] = values
            columns[f"{name}.rank"] = _rank(values)
        fused = signals.fused[rows]
        columns["fused.score"] = fused
        columns["fused.rank"] = _rank(fused)
        p = self.priors
        columns["item.log_popularity"] = p.log_popularity[rows]
        columns["item.bayes_rating"] = p.bayes_rating[rows]
        columns["item.well_known"] = p.well_known[rows].astype(np.float32)
        years = p.years[rows]
        columns["item.year"] = years
        columns["item.year_to_request"] = _distance(years, _requested_year(query))
        columns["item.year_to_liked"] = _distance(years, self._liked_year(query))
        coverage, n_aspects = self._aspects(query, rows)
        columns["match.aspects"] = coverage
        columns["match.aspect_share"] = coverage / n_aspects if n_aspects else np.zeros(n, np.float32)
        liked, disliked = self._attribute_matches(query, rows)
        columns["match.liked_attributes"] = liked
        columns["match.disliked_attributes"] = disliked
        columns["match.kg_paths"] = self._kg_paths(query, rows)
        columns["match.genre_profile"] = self.genres.similarity(query)[rows]
        c = query.constraints
        constraint_count = sum(bool(v) for v in (c.year_min, c.year_max, c.genres_all, c.genres_any,
                                                 c.genres_none, c.people_any, c.people_none))
        dialogue = {
            "query.seeds": len(query.seeds),
            "query.context": min(len(query.exclude), 200),
            "query.aspects": n_aspects,
            "query.constraints": constraint_count,
            "query.known_user": float(query.user_id is not None),
            "query.liked_attributes": len(query.liked_attributes),
            "query.obscure": float("obscure" in query.refinements),
        }
        for name, value in dialogue.items():
            columns[name] = np.full(n, value, dtype=np.float32)
        return np.column_stack([np.asarray(columns[f], dtype=np.float32) for f in FEATURES])

    def _liked_year(self, query: RetrievalQuery) -> float | None:
        rows = [self.table.pos[i] for i in query.seeds if i in self.table.pos]
        years = self.priors.years[rows] if rows else np.zeros(0)
        years = years[~np.isnan(years)]
        return float(np.median(years)) if len(years) else None

    def _aspects(self, query: RetrievalQuery, rows: np.ndarray) -> tuple[np.ndarray, int]:
        if self.aspects is None or not query.text:
            return np.zeros(len(rows), dtype=np.float32), 0
        _, coverage, used = self.aspects.match(query.text)
        return coverage[rows], used

    def _attribute_matches(self, query: RetrievalQuery, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        table = self.table
        out = []
        for nodes in (query.liked_attributes, query.disliked_attributes):
            count = np.zeros(len(rows), dtype=np.float32)
            for node in nodes:
                kind, _, value = node.partition(":")
                if kind == "genre":
                    count += table.genre_mask(value)[rows]
                elif kind == PERSON:
                    count += table.person_mask(table.kg.label(node))[rows]
            out.append(count)
        return out[0], out[1]

    def _kg_paths(self, query: RetrievalQuery, rows: np.ndarray) -> np.ndarray:
        if self.kg_binary is None or not query.seeds:
            return np.zeros(len(rows), dtype=np.float32)
        seeds = np.zeros(len(self.table), dtype=np.float32)
        for item_id in query.seeds:
            row = self.table.pos.get(item_id)
            if row is not None:
                seeds[row] = 1.0
        entities = self.kg_binary_t @ seeds
        return np.log1p(np.asarray(self.kg_binary[rows] @ entities, dtype=np.float32))


def _rank(values: np.ndarray) -> np.ndarray:
    """log2(1 + rank) among the pool, best = 0; a zero score (or an absent source) gets one value
    whatever the pool's size, so the size itself says nothing."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[order] = np.arange(len(values), dtype=np.float32)
    ranks[values <= 0] = UNRANKED
    return np.log2(1.0 + ranks)


def _distance(years: np.ndarray, target: float | None) -> np.ndarray:
    if target is None:
        return np.full(len(years), np.nan, dtype=np.float32)
    return np.abs(years - target).astype(np.float32)


def _requested_year(query: RetrievalQuery) -> float | None:
    c = query.constraints
    if c.year_min is not None and c.year_max is not None:
        return (c.year_min + c.year_max) / 2
    if c.year_min is not None:
        return float(c.year_min)
    if c.year_max is not None:
        return float(c.year_max)
    return None


