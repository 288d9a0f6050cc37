"""The knowledge graph of a columnar catalog, read from its columns instead of built.

``KnowledgeGraph`` keeps plain-dict adjacency: about 1.8 KB per item, 1.8 GB for a million items
in every worker, and ten minutes to build. A columnar catalog (``chatrec.catalog.columnar``)
already holds the same edges on disk: each item's label codes (ragged columns), each code's
entity (its label key), and each entity's rows (inverted indexes). ``ColumnarGraph`` answers the
``Graph`` questions from those memory-mapped arrays — the same nodes, relations, fact order and
labels as ``KnowledgeGraph.build`` over the same items — and pays RAM only for the edges of the
items a conversation touches (kept in a small LRU).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
from scipy import sparse

from chatrec.catalog.columnar import LABEL_FIELDS, ColumnarCatalog
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
    item_node,
    node_kind,
    node_value,
)

#: Label field → relation, in fact order (as ``kg.graph``: people, then genres, then keywords).
FIELD_RELATIONS = (("directors", DIRECTED_BY), ("cast", STARS), ("writers", WRITTEN_BY),
                   ("creators", MADE_BY), ("genres", HAS_GENRE), ("keywords", HAS_KEYWORD))
_FAMILY_KIND = {"person": PERSON, "genre": GENRE, "keyword": KEYWORD}
_KIND_FAMILY = {kind: family for family, kind in _FAMILY_KIND.items()}
_RELATION_FIELD = {relation: field for field, relation in FIELD_RELATIONS}
#: Items whose edges a worker keeps decoded (a few conversations' worth).
EDGE_CACHE = 8192


class ColumnarGraph:
    """The ``Graph`` of a ``ColumnarCatalog`` (see the module docstring)."""

    def __init__(self, catalog: ColumnarCatalog):
        self.catalog = catalog
        self.catalog_name = catalog.name
        self.fingerprint = catalog.fingerprint()
        self._popularity = catalog.popularity_array()
        self._edges: OrderedDict[int, tuple[tuple[str, str], ...]] = OrderedDict()

    # ---------------------------------------------------------------- rows and nodes
    def _row(self, item_id: str) -> int | None:
        return self.catalog.row_of.get(item_id)

    def _entity(self, node: str) -> tuple[str, int] | None:
        """(family, entity code) of a person/genre/keyword node, or None."""
        family = _KIND_FAMILY.get(node_kind(node))
        if family is None or ":" not in node:
            return None
        code = self.catalog.entity_code(family, node_value(node))
        return None if code is None else (family, code)

    def _rows_by_field(self, node: str) -> dict[str, np.ndarray]:
        """Label field → rows linked to an entity node through it ({} for unknown nodes)."""
        if node_kind(node) == DECADE:
            decade = int(node_value(node)) if node_value(node).isdigit() else -1
            years = self.catalog.year_array()
            return {"year": np.flatnonzero((years >= max(decade, 1)) & (years < decade + 10))}
        found = self._entity(node)
        if found is None:
            return {}
        family, code = found
        inverted = self.catalog.inverted
        out = {}
        for field, _ in FIELD_RELATIONS:
            if LABEL_FIELDS[field] == family:
                rows = inverted[field].row(code)
                if len(rows):
                    out[field] = np.asarray(rows)
        return out

    def rows_with(self, entity_node: str, relation: str | None = None) -> np.ndarray:
        """Rows (catalog order) of the items linked to an entity, ascending, each once."""
        by_field = self._rows_by_field(entity_node)
        if relation is not None:
            field = "year" if relation == RELEASED_IN else _RELATION_FIELD.get(relation)
            rows = by_field.get(field or "")
            return rows if rows is not None else np.zeros(0, np.int32)
        if not by_field:
            return np.zeros(0, np.int32)
        if len(by_field) == 1:
            return next(iter(by_field.values()))
        return np.unique(np.concatenate(list(by_field.values())))

    # ---------------------------------------------------------------- Graph protocol
    @property
    def n_items(self) -> int:
        return len(self.catalog)

    @property
    def item_ids(self) -> Iterable[str]:
        return self.catalog.ids

    def __contains__(self, node: object) -> bool:
        if not isinstance(node, str) or ":" not in node:
            return False
        kind = node_kind(node)
        if kind == ITEM:
            return self.has_item(node_value(node))
        return bool(len(self.rows_with(node)))

    def has_item(self, item_id: str) -> bool:
        return item_id in self.catalog.row_of

    def popularity(self, item_id: str) -> int:
        row = self._row(item_id)
        return 0 if row is None else int(self._popularity[row])

    def label(self, node: str) -> str:
        if ":" not in node:
            return node
        kind, value = node_kind(node), node_value(node)
        if kind == ITEM:
            item = self.catalog.get(value)
            return item.display if item is not None else value
        if kind == DECADE:
            return f"{value}s"
        found = self._entity(node)
        if found is None:
            return value
        family, code = found
        return self.catalog.entity_labels[family][code] or value

    def edges(self, item_id: str) -> tuple[tuple[str, str], ...]:
        """An item's (relation, entity node) pairs, in fact order; () for an unknown item."""
        row = self._row(item_id)
        if row is None:
            return ()
        cached = self._edges.get(row)
        if cached is not None:
            self._edges.move_to_end(row)
            return cached
        cached = self._edges[row] = self._decode(row)
        if len(self._edges) > EDGE_CACHE:
            self._edges.popitem(last=False)
        return cached

    def _decode(self, row: int) -> tuple[tuple[str, str], ...]:
        catalog = self.catalog
        edges: list[tuple[str, str]] = []
        for field, relation in FIELD_RELATIONS:
            family = LABEL_FIELDS[field]
            entity_of, keys = catalog.entity_of[family], catalog.entity_keys[family]
            prefix = _FAMILY_KIND[family]
            for code in catalog.label_codes(field, row):
                entity = int(entity_of[int(code)])
                if entity >= 0:
                    edges.append((relation, f"{prefix}:{keys[entity]}"))
        year = int(catalog.years[row])
        if year:
            edges.append((RELEASED_IN, decade_node(year // 10 * 10)))
        return tuple(dict.fromkeys(edges))

    def facts_of(self, item_id: str, relations: Iterable[str] | None = None) -> list[Fact]:
        subject = item_node(item_id)
        wanted = set(relations) if relations is not None else None
        edges = self.edges(item_id)
        if not edges:
            return []
        subject_label = self.label(subject)
        return [Fact(subject=subject, relation=rel, object=node, subject_label=subject_label,
                     object_label=self.label(node))
                for rel, node in edges if wanted is None or rel in wanted]

    def fact(self, item_id: str, relation: str, entity_node: str) -> Fact | None:
        if not self.has_fact(item_id, relation, entity_node):
            return None
        subject = item_node(item_id)
        return Fact(subject=subject, relation=relation, object=entity_node,
                    subject_label=self.label(subject), object_label=self.label(entity_node))

    def has_fact(self, item_id: str, relation: str | None, entity_node: str) -> bool:
        return any(node == entity_node and (relation is None or rel == relation)
                   for rel, node in self.edges(item_id))

    def relations_between(self, item_id: str, entity_node: str) -> list[str]:
        return [rel for rel, node in self.edges(item_id) if node == entity_node]

    def items_with(self, entity_node: str, relation: str | None = None) -> set[str]:
        ids = self.catalog.ids
        return {ids[int(row)] for row in self.rows_with(entity_node, relation)}

    def entities_of(self, item_id: str, relations: Iterable[str] | None = None) -> list[str]:
        wanted = set(relations) if relations is not None else None
        return list(dict.fromkeys(node for rel, node in self.edges(item_id)
                                  if wanted is None or rel in wanted))

    def degree(self, entity_node: str) -> int:
        if node_kind(entity_node) == ITEM:
            return len(self.edges(node_value(entity_node)))
        return int(len(self.rows_with(entity_node)))

    def weight(self, entity_node: str, relation_weights: dict[str, float] | None = None) -> float:
        """As ``KnowledgeGraph.weight``: the popularity of the entity's items plus their number,
        each item through its strongest relation when ``relation_weights`` is given."""
        by_field = self._rows_by_field(entity_node)
        if not by_field:
            return 0.0
        if relation_weights is None:
            rows = self.rows_with(entity_node)
            return float(self._popularity[rows].sum() + len(rows))
        relation_of = {**_RELATION_FIELD_INVERSE, "year": RELEASED_IN}
        rows = np.concatenate(list(by_field.values()))
        factors = np.concatenate([np.full(len(found), relation_weights.get(relation_of[field], 1.0))
                                  for field, found in by_field.items()])
        order = np.lexsort((-factors, rows))            # per row, its strongest relation first
        rows, factors = rows[order], factors[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = rows[1:] != rows[:-1]
        return float(((self._popularity[rows[first]] + 1) * factors[first]).sum())

    def nodes(self, kind: str | None = None) -> list[str]:
        """Node ids of one kind (all kinds when None; items included, so costly at scale)."""
        if kind is None:
            return [node for each in (ITEM, PERSON, GENRE, KEYWORD, DECADE) for node in self.nodes(each)]
        if kind == ITEM:
            return [item_node(item_id) for item_id in self.catalog.ids]
        if kind == DECADE:
            years = self.catalog.year_array()
            return [decade_node(int(d)) for d in np.unique(years[years > 0] // 10 * 10)]
        family = _KIND_FAMILY.get(kind)
        if family is None:
            return []
        return [f"{kind}:{key}" for key in self._linked_keys(family)]

    def _linked_keys(self, family: str) -> Iterator[str]:
        fields = [field for field, _ in FIELD_RELATIONS if LABEL_FIELDS[field] == family]
        used = np.zeros(len(self.catalog.entity_keys[family]), dtype=bool)
        for field in fields:
            used |= self.catalog.inverted[field].lengths() > 0
        keys = self.catalog.entity_keys[family]
        return (keys[int(code)] for code in np.flatnonzero(used))

    def entity_nodes(self) -> list[str]:
        return [node for kind in (PERSON, GENRE, KEYWORD, DECADE) for node in self.nodes(kind)]

    def counts(self) -> dict[str, int]:
        result = {ITEM: self.n_items}
        result.update({kind: len(self.nodes(kind)) for kind in (PERSON, GENRE, KEYWORD, DECADE)})
        edges = sum(int(self.catalog.inverted[field].lengths().sum()) for field, _ in FIELD_RELATIONS)
        result["edges"] = edges + int(np.count_nonzero(self.catalog.year_array()))
        return result

    def entity_matrix(self, relations: Iterable[str], max_degree: int) -> tuple[sparse.csr_matrix, EntityColumns]:
        """The item × entity matrix of ``retrieve.KnowledgeGraphSource`` straight from the columns:
        entry 1/sqrt(log2(1 + degree)) where an item links to an entity through one of
        ``relations`` whose degree is in (1, ``max_degree``]; each (item, entity) once."""
        catalog = self.catalog
        wanted = [field for field, relation in FIELD_RELATIONS if relation in set(relations)]
        families = list(dict.fromkeys(LABEL_FIELDS[field] for field in wanted))
        offsets, total = {}, 0
        for family in families:
            offsets[family] = total
            total += len(catalog.entity_keys[family])
        degree = np.zeros(total, dtype=np.int64)
        for family in families:
            # distinct items per entity, across every field of the family (a director who also
            # wrote the film counts once)
            fields = [field for field, _ in FIELD_RELATIONS if LABEL_FIELDS[field] == family]
            pairs = [(np.repeat(np.arange(len(catalog.inverted[f])), catalog.inverted[f].lengths()),
                      np.asarray(catalog.inverted[f].values)) for f in fields]
            codes = np.concatenate([c for c, _ in pairs])
            rows = np.concatenate([r for _, r in pairs]).astype(np.int64)
            unique = np.unique(codes.astype(np.int64) * (len(catalog) + 1) + rows)
            degree[offsets[family]:offsets[family] + len(catalog.entity_keys[family])] = np.bincount(
                unique // (len(catalog) + 1), minlength=len(catalog.entity_keys[family]))
        rows_all, cols_all = [], []
        for field in wanted:
            family = LABEL_FIELDS[field]
            inverted = catalog.inverted[field]
            cols_all.append(np.repeat(np.arange(len(inverted), dtype=np.int64), inverted.lengths())
                            + offsets[family])
            rows_all.append(np.asarray(inverted.values, dtype=np.int64))
        cols = np.concatenate(cols_all) if cols_all else np.zeros(0, np.int64)
        rows = np.concatenate(rows_all) if rows_all else np.zeros(0, np.int64)
        keep = (degree[cols] > 1) & (degree[cols] <= max_degree)
        pairs = np.unique(rows[keep] * max(total, 1) + cols[keep])
        rows, cols = pairs // max(total, 1), pairs % max(total, 1)
        used, dense_cols = np.unique(cols, return_inverse=True)
        values = (1.0 / np.sqrt(np.log2(1.0 + degree[used]))).astype(np.float32)[dense_cols]
        matrix = sparse.csr_matrix((values, (rows, dense_cols)), shape=(len(catalog), max(len(used), 1)))
        return matrix, EntityColumns(self, families, offsets, used)

    def __repr__(self) -> str:
        return f"ColumnarGraph({self.catalog_name!r}, items={self.n_items})"


_RELATION_FIELD_INVERSE = {field: relation for field, relation in FIELD_RELATIONS}


class EntityColumns(Mapping[str, int]):
    """Entity node → its column in ``ColumnarGraph.entity_matrix`` (looked up, not stored)."""

    def __init__(self, graph: ColumnarGraph, families: list[str], offsets: dict[str, int], used: np.ndarray):
        self._graph, self._families, self._offsets, self._used = graph, families, offsets, used

    def get(self, node: object, default: Any = None) -> Any:
        found = self._graph._entity(node) if isinstance(node, str) else None
        if found is None or found[0] not in self._offsets:
            return default
        code = self._offsets[found[0]] + found[1]
        col = int(np.searchsorted(self._used, code))
        return col if col < len(self._used) and self._used[col] == code else default

    def __getitem__(self, node: str) -> int:
        col = self.get(node)
        if col is None:
            raise KeyError(node)
        return col

    def __iter__(self) -> Iterator[str]:
        bounds = sorted((offset, family) for family, offset in self._offsets.items())
        for code in self._used:
            offset, family = max(b for b in bounds if b[0] <= code)
            yield f"{_FAMILY_KIND[family]}:{self._graph.catalog.entity_keys[family][int(code - offset)]}"

    def __len__(self) -> int:
        return len(self._used)

__all__ = ["ColumnarGraph"]
