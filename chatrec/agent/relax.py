"""When the hard constraints leave too few films: relax the least certain one, and say so.

``retrieve_relaxed`` asks the retriever for the films that satisfy every constraint; while they
are fewer than needed, it drops one constraint *unit* (``Constraints.units``) — the least certain
reading (an explicit request outranks a refinement, which outranks an inference), among equally
certain ones the oldest, then the one whose removal lets the most films back in — and fills the
list with films satisfying the rest, ranked after the strict ones. Each step is a
``Relaxation``: the reply says it ("Only 2 films match everything; the rest are not directed by
Quentin Tarantino") and the trace records it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from chatrec.agent.retrieve import Candidate, RetrievalQuery, Retriever
from chatrec.catalog.constraints import Constraints


@dataclass
class Relaxation:
    """One constraint dropped.

    Attributes:
        unit: the constraint unit ("genres_all:comedy", "year", "cast_any").
        label: how to say it ("comedy", "from 2015", "starring Tom Hanks").
        said: the user's words it was read from.
        certainty: how sure its reading was.
        matched: films that satisfied every constraint before it was dropped.
    """

    unit: str
    label: str
    said: str
    certainty: float
    matched: int


def retrieve_relaxed(retriever: Retriever, query: RetrievalQuery, k: int, need: int | None = None,
                     timings: dict[str, float] | None = None
                     ) -> tuple[list[Candidate], list[Relaxation], Constraints]:
    """Up to ``k`` candidates, relaxing constraints while fewer than ``need`` (default ``k``)
    satisfy them. Returns the candidates (strict ones first), the relaxations made, and the
    constraints the last candidates satisfy."""
    need = k if need is None else min(need, k)
    candidates = retriever.retrieve(query, k, timings=timings)
    constraints = query.constraints
    relaxations: list[Relaxation] = []
    while len(candidates) < need and constraints.hard_units():
        unit = least_certain(constraints, retriever, query)
        origin = constraints.origin(unit)
        relaxations.append(Relaxation(unit, constraints.label(unit), origin.said, origin.certainty,
                                      len(candidates)))
        constraints = constraints.without_unit(unit)
        more = retriever.retrieve(replace(query, constraints=constraints), k)
        have = {c.item_id for c in candidates}
        floor = min((c.score for c in candidates), default=0.0)
        for extra in (c for c in more if c.item_id not in have):
            if len(candidates) >= k:
                break
            floor -= 1e-3   # after every stricter film, in their own order
            candidates.append(Candidate(extra.item_id, floor, extra.sources))
    return candidates, relaxations, constraints


def least_certain(constraints: Constraints, retriever: Retriever, query: RetrievalQuery) -> str:
    """The unit to drop first: lowest certainty, then said longest ago, then the one whose
    removal lets the most films back in."""
    table = retriever.table

    def key(unit: str) -> tuple:
        origin = constraints.origin(unit)
        gained = int(table.mask(constraints.without_unit(unit), query.exclude).sum())
        return (round(origin.certainty, 3), origin.turn, -gained)

    return min(constraints.hard_units(), key=key)
