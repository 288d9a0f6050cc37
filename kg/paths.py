"""Explanations as knowledge-graph paths: why a candidate fits what the user liked.

A path is at most two hops: ``candidate → entity ← liked item`` (a shared director, actor,
keyword, genre, decade) or ``candidate → entity`` where the entity is something the user asked
for ("genre:comedy", "person:tom hanks"). Only the few items on screen are explained, by
intersecting each one's handful of entities with those of the liked items; nothing is searched
over the whole graph.

Paths are ranked by how much they say: the inverse degree of the entity (a director with ten
films beats "drama", which thousands of films share) times the weight of the relation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from kg.models import (
    DIRECTED_BY,
    HAS_GENRE,
    HAS_KEYWORD,
    MADE_BY,
    RELEASED_IN,
    STARS,
    WRITTEN_BY,
    Fact,
)

if TYPE_CHECKING:
    from chatrec.protocols import Graph

# How much sharing an entity through a relation says, before rarity (directing is authorship;
# a genre is a broad shelf; a decade is barely a reason).
RELATION_WEIGHT = {
    DIRECTED_BY: 1.0, MADE_BY: 1.0, STARS: 0.9, WRITTEN_BY: 0.8, HAS_KEYWORD: 0.7,
    HAS_GENRE: 0.4, RELEASED_IN: 0.3,
}


class ExplanationPath(BaseModel):
    """One reason, as KG edges.

    Attributes:
        facts: the edges, candidate's first: [candidate → via] or
            [candidate → via, liked item → via].
        via: the entity node the path goes through ("person:christopher nolan").
        liked_item: the liked item's id at the other end, or None for a liked attribute.
        weight: informativeness; higher is a better reason.
    """

    model_config = ConfigDict(frozen=True)

    facts: list[Fact] = Field(min_length=1)
    via: str
    liked_item: str | None = None
    weight: float


def rarity(kg: Graph, entity: str) -> float:
    """Inverse-degree informativeness in (0, 1]: 1 for an entity of one item, near 0 for one
    that every item has."""
    n = max(kg.n_items, 1)
    return math.log((n + 1) / (kg.degree(entity) + 1)) / math.log(n + 1)


def explain(kg: Graph, candidate_id: str, liked_items: Sequence[str] = (),
            liked_attributes: Iterable[str] = (), max_paths: int = 3) -> list[ExplanationPath]:
    """The best short paths from ``candidate_id`` to what the user liked, best first.

    Args:
        kg: the knowledge graph.
        candidate_id: the item to explain.
        liked_items: item ids the user liked, most important first (on a tie, the earlier
            liked item is named).
        liked_attributes: entity nodes the user asked for or liked ("genre:comedy").
        max_paths: how many paths at most; each goes through a different entity.

    Returns:
        Up to ``max_paths`` paths, by decreasing weight; empty when nothing is shared.
    """
    relations = _best_relation(kg.edges(candidate_id))
    if not relations:
        return []
    # via → (weight, liked item or None, its relation); Facts are made for the winners only
    best: dict[str, tuple[float, str | None, str | None]] = {}

    def offer(via: str, weight: float, liked: str | None, liked_relation: str | None) -> None:
        if via not in best or weight > best[via][0]:
            best[via] = (weight, liked, liked_relation)

    for node in dict.fromkeys(liked_attributes):
        relation = relations.get(node)
        if relation is not None:
            # asked for: worth at least half its relation's weight, however common ("a comedy")
            offer(node, RELATION_WEIGHT.get(relation, 0.5) * (0.5 + 0.5 * rarity(kg, node)),
                  None, None)

    for rank, liked in enumerate(dict.fromkeys(liked_items)):
        if liked == candidate_id or not kg.has_item(liked):
            continue
        liked_relations = _best_relation(kg.edges(liked))
        for node in relations.keys() & liked_relations.keys():
            strength = max(RELATION_WEIGHT.get(relations[node], 0.5),
                           RELATION_WEIGHT.get(liked_relations[node], 0.5))
            # a hair less for later liked items: ties go to the one the user named first
            offer(node, strength * rarity(kg, node) * (1.0 - 1e-3 * rank), liked,
                  liked_relations[node])

    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:max_paths]
    paths = []
    for via, (weight, liked, liked_relation) in ranked:
        facts = [_fact(kg, candidate_id, relations[via], via)]
        if liked is not None and liked_relation is not None:
            facts.append(_fact(kg, liked, liked_relation, via))
        paths.append(ExplanationPath(facts=facts, via=via, liked_item=liked,
                                     weight=round(weight, 6)))
    return paths


def shared_entities(kg: Graph, a: str, b: str) -> list[str]:
    """Entity nodes two items share, most informative first."""
    common = set(kg.entities_of(a)) & set(kg.entities_of(b))
    return sorted(common, key=lambda node: (-rarity(kg, node), node))


def _best_relation(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """entity → the strongest relation an item has to it (Nolan: directed_by over written_by)."""
    chosen: dict[str, str] = {}
    for relation, node in edges:
        current = chosen.get(node)
        if current is None or RELATION_WEIGHT.get(relation, 0) > RELATION_WEIGHT.get(current, 0):
            chosen[node] = relation
    return chosen


def _fact(kg: Graph, item_id: str, relation: str, node: str) -> Fact:
    fact = kg.fact(item_id, relation, node)
    if fact is None:  # cannot happen for edges read from the graph; fail loudly if it does
        raise ValueError(f"no edge {item_id} {relation} {node}")
    return fact


def path_nodes(paths: Iterable[ExplanationPath]) -> list[str]:
    """Every node the paths touch, in first-seen order (for drawing)."""
    nodes: dict[str, None] = {}
    for path in paths:
        for fact in path.facts:
            nodes.setdefault(fact.subject)
            nodes.setdefault(fact.object)
    return list(nodes)


__all__ = ["ExplanationPath", "RELATION_WEIGHT", "explain", "path_nodes", "rarity",
           "shared_entities"]
