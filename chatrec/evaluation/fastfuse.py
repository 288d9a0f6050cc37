"""Fast re-fusion for tuning: take the agent's retrieval queries once, then score any fusion
weights in seconds.

The agent fuses its sources linearly (``chatrec.agent.retrieve.Retriever``): a query's ranking
under other weights only needs each source's scores for that query, which do not depend on the
weights. ``Agent.query(session)`` gives the query a ``rank`` call would run at that point of a
dialogue; ``Memo`` caches every source's dense scores per recorded query; a fresh
``Retriever`` with other weights over the memoised sources then ranks each query in about a
millisecond. The dialogue state behind a query does not depend on the weights, except through
what the agent showed earlier in the dialogue (second order, ignored here; the reported run uses
the real agent with the chosen weights).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from chatrec.evaluation.metrics import ndcg_at, rank_of


class Memo:
    """A source whose dense scores are cached per query object (recorded queries live on)."""

    def __init__(self, source, table):
        self.source = source
        self.name = source.name
        self.table = table
        self.cache: dict[int, np.ndarray | None] = {}

    def __call__(self, query):
        key = id(query)
        if key not in self.cache:
            raw = self.source(query)
            if isinstance(raw, np.ndarray):
                dense = raw.astype(np.float32, copy=True)
            elif raw:
                dense = self.table.dense(raw)
            else:
                dense = None
            self.cache[key] = dense
        dense = self.cache[key]
        return dense if dense is not None else {}


@dataclass
class Case:
    """One recorded ranking to score: its query and what counts as a hit."""

    query: object
    gold: list  # gold groups (ReDial new movies) or [item] (offline)


def fuse(
    table, sources: list, weights: dict, extra_weights: dict, cases: Iterable[Case], k: int = 50
) -> list[list[str]]:
    """Rankings of every case under ``weights`` (FusionWeights fields) and ``extra_weights``."""
    from chatrec.agent.retrieve import FusionWeights, Retriever

    retriever = Retriever(table, sources, FusionWeights(**weights), extra_weights)
    return [[c.item_id for c in retriever.retrieve(case.query, k)] for case in cases]


def recall(rankings: list[list[str]], cases: list[Case], k: int) -> float:
    hits = total = 0
    for ranked, case in zip(rankings, cases, strict=True):
        for gold in case.gold:
            total += 1
            rank = rank_of(ranked, gold)
            hits += rank is not None and rank <= k
    return hits / total if total else 0.0


def ndcg(rankings: list[list[str]], cases: list[Case], k: int = 10) -> float:
    values = [
        ndcg_at(ranked, case.gold[0], k) for ranked, case in zip(rankings, cases, strict=True)
    ]
    return float(np.mean(values)) if values else 0.0


def memoised(retriever) -> list[Memo]:
    """The sources of an agent's ``Retriever``, memoised."""
    return [Memo(s, retriever.table) for s in retriever.sources]


Objective = Callable[[dict], float]
