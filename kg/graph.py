"""The knowledge graph: items and the people, genres, keywords and decades they share.

Built from a :class:`~chatrec.catalog.models.Catalog`. Every edge goes from an item node to an
entity node and carries one relation of :data:`kg.models.RELATIONS`; an item directed and written
by the same person has two edges to that person.

The agent asks the graph small questions every turn (an item's facts, the items of an entity, an
entity's degree), so the graph keeps plain-dict adjacency beside the networkx view and answers
from the dicts; the networkx ``MultiDiGraph`` is built lazily, for drawing and ad-hoc analysis.
A built graph is cached under ``settings.cache_dir/kg``, keyed by the catalog fingerprint and the
code that builds it (see :mod:`kg.cache`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from chatrec.catalog.models import Catalog
from kg.cache import code_hash, read_pickle, safe_name, settle, write_pickle
from kg.models import (
    DECADE,
    DIRECTED_BY,
    GENRE,
    HAS_GENRE,
    HAS_KEYWORD,
    ITEM,
    KEYWORD,
    MADE_BY,
    PERSON,
    RELEASED_IN,
    STARS,
    WRITTEN_BY,
    Fact,
    decade_node,
    genre_node,
    item_node,
    keyword_node,
    node_kind,
    node_value,
    person_node,
)

if TYPE_CHECKING:
    from chatrec.config import Settings
    from kg.columnar import ColumnarGraph

logger = logging.getLogger(__name__)

# Bump to invalidate cached graphs on purpose (code changes already do, through the code hash).
KG_VERSION = 1

# Item role → relation. Order is the order facts are listed in.
_PEOPLE_RELATIONS = (
    ("directors", DIRECTED_BY), ("cast", STARS), ("writers", WRITTEN_BY), ("creators", MADE_BY),
)

_NODE_MAKERS = {PERSON: person_node, GENRE: genre_node, KEYWORD: keyword_node}


class KnowledgeGraph:
    """Items and their entities, with fast neighbourhood look-ups.

    Build with :meth:`build` or :meth:`load_or_build`; do not call the constructor directly.

    Attributes:
        catalog_name: the name of the catalog it was built from.
        fingerprint: the catalog fingerprint it was built from (the cache key).
        labels: node id → human spelling ("item:2571" → "The Matrix (1999)").
    """

    def __init__(self, catalog_name: str, fingerprint: str, labels: dict[str, str],
                 out_edges: dict[str, tuple[tuple[str, str], ...]],
                 in_edges: dict[str, dict[str, frozenset[str]]],
                 popularity: dict[str, int]):
        self.catalog_name = catalog_name
        self.fingerprint = fingerprint
        self.labels = labels
        # item id → ((relation, entity node), ...) in fact order
        self._out = out_edges
        # entity node → relation → item ids
        self._in = in_edges
        self._popularity = popularity

    # ---------------------------------------------------------------- construction
    @classmethod
    def build(cls, catalog: Catalog, fingerprint: str | None = None) -> KnowledgeGraph:
        """Build the graph of ``catalog`` (about a second for MovieLens' 9,742 items).

        Args:
            catalog: the items to describe.
            fingerprint: ``catalog.fingerprint()`` when the caller already has it.
        """
        labels: dict[str, str] = {}
        label_votes: dict[str, Counter[str]] = defaultdict(Counter)
        out: dict[str, tuple[tuple[str, str], ...]] = {}
        into: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        popularity: dict[str, int] = {}
        # Names and keywords repeat across thousands of items; normalise each spelling once.
        memo: dict[tuple[str, str], str] = {}

        def node_of(kind: str, raw: str) -> str:
            key = (kind, raw)
            node = memo.get(key)
            if node is None:
                node = memo[key] = _NODE_MAKERS[kind](raw)
            return node

        for item in catalog:
            labels[item_node(item.id)] = item.display
            popularity[item.id] = item.popularity
            edges: list[tuple[str, str]] = []
            for field, relation in _PEOPLE_RELATIONS:
                for name in getattr(item, field):
                    node = node_of(PERSON, name)
                    if node_value(node):
                        edges.append((relation, node))
                        label_votes[node][name.strip()] += 1
            for genre in item.genres:
                node = node_of(GENRE, genre)
                if node_value(node):
                    edges.append((HAS_GENRE, node))
                    label_votes[node][genre.strip()] += 1
            for keyword in item.keywords:
                node = node_of(KEYWORD, keyword)
                if node_value(node):
                    edges.append((HAS_KEYWORD, node))
                    label_votes[node][keyword.strip()] += 1
            if item.decade is not None:
                node = decade_node(item.decade)
                edges.append((RELEASED_IN, node))
                labels[node] = f"{item.decade}s"
            unique = tuple(dict.fromkeys(edges))  # a keyword listed twice is one edge
            out[item.id] = unique
            for relation, node in unique:
                into[node][relation].add(item.id)

        # An entity spelled differently across items ("Robert Downey Jr." / "Robert Downey, Jr.")
        # is one node; show its most frequent spelling.
        for node, votes in label_votes.items():
            labels[node] = votes.most_common(1)[0][0]
        frozen_in = {node: {rel: frozenset(ids) for rel, ids in by_rel.items()}
                     for node, by_rel in into.items()}
        return cls(catalog.name, fingerprint or catalog.fingerprint(), labels, out, frozen_in,
                   popularity)

    @classmethod
    def cache_path(cls, catalog: Catalog, settings: Settings, fingerprint: str | None = None) -> Path:
        """Where the cached graph of ``catalog`` lives."""
        fingerprint = fingerprint or catalog.fingerprint()
        code = code_hash("graph.py", "models.py")
        return (settings.cache_dir / "kg"
                / f"graph-{safe_name(catalog.name)}-{fingerprint}-v{KG_VERSION}-{code}.pickle")

    @classmethod
    def load_or_build(cls, catalog: Catalog, settings: Settings | None = None) -> KnowledgeGraph:
        """The graph of ``catalog`` from the cache, or built and cached when absent or unreadable.

        Args:
            catalog: the catalog to describe.
            settings: where the cache lives (``settings.cache_dir``); default: ``get_settings()``.
        """
        if settings is None:
            from chatrec.config import get_settings

            settings = get_settings()
        fingerprint = catalog.fingerprint()
        path = cls.cache_path(catalog, settings, fingerprint)
        started = time.perf_counter()
        state = read_pickle(path)
        if isinstance(state, dict) and state.get("fingerprint") == fingerprint:
            logger.info("KG loaded from %s in %.2fs", path, time.perf_counter() - started)
            return cls(state["catalog_name"], state["fingerprint"], state["labels"],
                       state["out"], state["in"], state["popularity"])
        graph = cls.build(catalog, fingerprint)
        logger.info("KG built for %s (%d items) in %.2fs", catalog.name, len(catalog),
                    time.perf_counter() - started)
        graph.save(path)
        settle()
        return graph

    def save(self, path: Path) -> None:
        """Write the graph to ``path`` atomically."""
        write_pickle(path, {"catalog_name": self.catalog_name, "fingerprint": self.fingerprint,
                            "labels": self.labels, "out": self._out, "in": self._in,
                            "popularity": self._popularity})

    # ---------------------------------------------------------------- look-ups
    def __contains__(self, node: object) -> bool:
        return node in self.labels

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KnowledgeGraph):
            return NotImplemented
        return (self.fingerprint == other.fingerprint and self.labels == other.labels
                and self._out == other._out and self._in == other._in)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container; compare by content

    def label(self, node: str) -> str:
        """The human spelling of a node ("person:christopher nolan" → "Christopher Nolan").
        Unknown nodes get their value back, so a label never fails."""
        label = self.labels.get(node)
        if label:
            return label
        return node_value(node) if ":" in node else node

    @property
    def item_ids(self) -> list[str]:
        return list(self._out)

    @property
    def n_items(self) -> int:
        return len(self._out)

    def has_item(self, item_id: str) -> bool:
        return item_id in self._out

    def popularity(self, item_id: str) -> int:
        return self._popularity.get(item_id, 0)

    def edges(self, item_id: str) -> tuple[tuple[str, str], ...]:
        """An item's (relation, entity node) pairs, in fact order; () for an unknown item."""
        return self._out.get(item_id, ())

    def facts_of(self, item_id: str, relations: Iterable[str] | None = None) -> list[Fact]:
        """Every edge of an item as a :class:`Fact`, people first, then genres, keywords, decade.
        Unknown items have no facts."""
        subject = item_node(item_id)
        wanted = set(relations) if relations is not None else None
        return [Fact(subject=subject, relation=rel, object=node,
                     subject_label=self.labels.get(subject, item_id),
                     object_label=self.labels.get(node, node_value(node)))
                for rel, node in self._out.get(item_id, ())
                if wanted is None or rel in wanted]

    def fact(self, item_id: str, relation: str, entity_node: str) -> Fact | None:
        """The one fact (item, relation, entity), or None when the graph lacks that edge."""
        if not self.has_fact(item_id, relation, entity_node):
            return None
        subject = item_node(item_id)
        return Fact(subject=subject, relation=relation, object=entity_node,
                    subject_label=self.labels[subject], object_label=self.label(entity_node))

    def has_fact(self, item_id: str, relation: str | None, entity_node: str) -> bool:
        """Whether the edge exists; ``relation=None`` accepts any relation."""
        by_rel = self._in.get(entity_node)
        if not by_rel:
            return False
        if relation is None:
            return any(item_id in ids for ids in by_rel.values())
        return item_id in by_rel.get(relation, ())

    def relations_between(self, item_id: str, entity_node: str) -> list[str]:
        """The relations linking an item to an entity (e.g. ["directed_by", "written_by"])."""
        return [rel for rel, node in self._out.get(item_id, ()) if node == entity_node]

    def items_with(self, entity_node: str, relation: str | None = None) -> set[str]:
        """Ids of the items linked to an entity (through ``relation`` when given)."""
        by_rel = self._in.get(entity_node)
        if not by_rel:
            return set()
        if relation is not None:
            return set(by_rel.get(relation, ()))
        if len(by_rel) == 1:
            return set(next(iter(by_rel.values())))
        return set().union(*by_rel.values())

    def entities_of(self, item_id: str, relations: Iterable[str] | None = None) -> list[str]:
        """Entity nodes of an item, in fact order, each once."""
        wanted = set(relations) if relations is not None else None
        return list(dict.fromkeys(node for rel, node in self._out.get(item_id, ())
                                  if wanted is None or rel in wanted))

    def degree(self, entity_node: str) -> int:
        """Number of distinct items linked to an entity (0 for unknown nodes). For an item node,
        its number of edges."""
        if node_kind(entity_node) == ITEM:
            return len(self._out.get(node_value(entity_node), ()))
        return self._degrees.get(entity_node, 0)

    def weight(self, entity_node: str, relation_weights: dict[str, float] | None = None) -> float:
        """How well known an entity is: the popularity of its items plus their number, each item
        counted once, through its strongest relation when ``relation_weights`` is given (e.g.
        writing credits count half: people are known for what they direct or star in)."""
        by_rel = self._in.get(entity_node)
        if not by_rel:
            return 0.0
        if relation_weights is None:
            ids = self.items_with(entity_node)
            return float(sum(self._popularity.get(i, 0) for i in ids) + len(ids))
        best: dict[str, float] = {}
        for relation, ids in by_rel.items():
            factor = relation_weights.get(relation, 1.0)
            for item_id in ids:
                if factor > best.get(item_id, -1.0):
                    best[item_id] = factor
        return float(sum((self._popularity.get(i, 0) + 1) * f for i, f in best.items()))

    @cached_property
    def _degrees(self) -> dict[str, int]:
        return {node: len(self.items_with(node)) for node in self._in}

    def nodes(self, kind: str | None = None) -> list[str]:
        """All node ids, or those of one kind (item, person, genre, keyword, decade)."""
        if kind is None:
            return list(self.labels)
        prefix = f"{kind}:"
        return [node for node in self.labels if node.startswith(prefix)]

    def entity_nodes(self) -> list[str]:
        """All non-item nodes that have at least one item."""
        return list(self._in)

    def counts(self) -> dict[str, int]:
        """Node counts by kind plus the edge count: {"item": 9742, "person": ..., "edges": ...}."""
        kinds = Counter(node_kind(node) for node in self.labels)
        result = {kind: kinds.get(kind, 0) for kind in (ITEM, PERSON, GENRE, KEYWORD, DECADE)}
        result["edges"] = sum(len(edges) for edges in self._out.values())
        return result

    # ---------------------------------------------------------------- networkx view
    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The networkx view: nodes carry ``kind`` and ``label``, edges are keyed by relation."""
        graph = nx.MultiDiGraph(catalog=self.catalog_name)
        for node, label in self.labels.items():
            graph.add_node(node, kind=node_kind(node), label=label)
        for item_id, edges in self._out.items():
            source = item_node(item_id)
            for rel, node in edges:
                graph.add_edge(source, node, key=rel, relation=rel)
        return graph

    def __repr__(self) -> str:
        counts = self.counts()
        return (f"KnowledgeGraph({self.catalog_name!r}, items={counts[ITEM]}, "
                f"people={counts[PERSON]}, genres={counts[GENRE]}, keywords={counts[KEYWORD]}, "
                f"edges={counts['edges']})")


def open_graph(catalog: Catalog, settings: Settings | None = None) -> KnowledgeGraph | ColumnarGraph:
    """The graph of ``catalog``: read from the columns of a columnar catalog (nothing to build or
    hold per worker), else ``KnowledgeGraph.load_or_build``."""
    from chatrec.catalog.columnar import ColumnarCatalog

    if isinstance(catalog, ColumnarCatalog):
        from kg.columnar import ColumnarGraph

        return ColumnarGraph(catalog)
    return KnowledgeGraph.load_or_build(catalog, settings)


__all__ = ["KG_VERSION", "KnowledgeGraph", "open_graph"]
