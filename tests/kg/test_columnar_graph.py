"""The knowledge graph and the linker over a columnar catalog (read from its columns and title
tries, never built as dicts) answer exactly as the dict-backed ones over the same items."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from chatrec.agent.retrieve import KnowledgeGraphSource
from chatrec.agent.table import ItemTable
from chatrec.catalog import Catalog
from chatrec.catalog.columnar import ColumnarCatalog, build_columnar
from kg.columnar import ColumnarGraph
from kg.graph import KnowledgeGraph, open_graph
from kg.item_phrases import ItemPhrases
from kg.lexicon import Lexicon
from kg.linker import EntityLinker
from kg.models import GENRE, KEYWORD, PERSON


@pytest.fixture(scope="module")
def columns(ml: Catalog, tmp_path_factory: pytest.TempPathFactory) -> ColumnarCatalog:
    folder = tmp_path_factory.mktemp("columns") / "movielens"
    build_columnar(iter(ml), folder, ml.name, ml.sources, None, ml.id_aliases)
    return ColumnarCatalog(folder)


@pytest.fixture(scope="module")
def graph(columns: ColumnarCatalog) -> ColumnarGraph:
    found = open_graph(columns)
    assert isinstance(found, ColumnarGraph)
    return found


def test_every_item_has_the_same_facts(ml: Catalog, ml_kg: KnowledgeGraph, graph: ColumnarGraph):
    assert graph.n_items == ml_kg.n_items
    for item in ml:
        assert graph.edges(item.id) == ml_kg.edges(item.id)
        assert graph.facts_of(item.id) == ml_kg.facts_of(item.id)
    assert graph.edges("no such id") == () and not graph.has_item("no such id")
    assert graph.counts() == ml_kg.counts()


def test_entities_answer_the_same(ml_kg: KnowledgeGraph, graph: ColumnarGraph):
    rng = random.Random(7)
    for kind in (PERSON, GENRE, KEYWORD, "decade"):
        nodes = ml_kg.nodes(kind)
        assert sorted(graph.nodes(kind)) == sorted(nodes)
        for node in rng.sample(nodes, min(400, len(nodes))):
            assert graph.items_with(node) == ml_kg.items_with(node)
            assert graph.degree(node) == ml_kg.degree(node)
            assert graph.label(node) == ml_kg.label(node)
            assert graph.weight(node) == pytest.approx(ml_kg.weight(node))
            assert graph.weight(node, {"written_by": 0.5}) == pytest.approx(ml_kg.weight(node, {"written_by": 0.5}))
    director = next(n for n in ml_kg.nodes(PERSON) if ml_kg.items_with(n, "directed_by"))
    assert graph.items_with(director, "directed_by") == ml_kg.items_with(director, "directed_by")
    item = next(iter(ml_kg.items_with(director, "directed_by")))
    assert graph.fact(item, "directed_by", director) == ml_kg.fact(item, "directed_by", director)
    assert graph.fact(item, "stars", "person:nobody at all") is None


def test_retrieval_matrix_and_table_are_the_same(ml: Catalog, ml_kg: KnowledgeGraph, columns: ColumnarCatalog,
                                                 graph: ColumnarGraph):
    plain, columnar = ItemTable(ml, ml_kg), ItemTable(columns, graph)
    assert (plain.years == columnar.years).all() and np.allclose(plain.popularity, columnar.popularity)
    built, read = KnowledgeGraphSource(ml_kg, plain), KnowledgeGraphSource(graph, columnar)
    assert set(built.columns) == set(read.columns) and built.matrix.nnz == read.matrix.nnz
    for node in list(built.columns)[::7]:
        assert np.allclose(built.matrix[:, built.columns[node]].toarray(), read.matrix[:, read.columns[node]].toarray())
    keyword = next(n for n in ml_kg.nodes(KEYWORD) if ml_kg.degree(n) > 3)
    assert sorted(plain.rows_with(keyword)) == sorted(columnar.rows_with(keyword))


def test_the_linker_links_the_same(ml: Catalog, ml_kg: KnowledgeGraph, columns: ColumnarCatalog,
                                   graph: ColumnarGraph, tmp_path: Path):
    dict_lexicon = Lexicon(ml_kg, ml)
    tries = Lexicon(graph, columns, items=ItemPhrases.load_or_build(columns, tmp_path))
    assert tries.max_len == dict_lexicon.max_len and dict_lexicon._token_weight == tries._token_weight
    for phrase in dict_lexicon.phrases:
        assert tries.get(phrase) == dict_lexicon.get(phrase), phrase
        assert phrase in tries.prefixes and all(token in tries.vocab for token in phrase)
    for text, phrase in dict_lexicon.compact.items():
        assert tries.compact[text] == phrase
    assert ("qzx", "vvq") not in tries.prefixes and "qzxvvq" not in tries.compact and "qzxvvq" not in tries.vocab
    plain = EntityLinker(ml_kg, ml, lexicon=dict_lexicon)
    columnar = EntityLinker(graph, columns, lexicon=tries)
    rng = random.Random(11)
    texts = ["I loved Inception, something from the 90s?", "anything by christopher nolan", "a spiderman movie",
             "have you seen heat", "Cristopher Nolan films", "the hangover part 2 was funny", "star wars please",
             "something like Toy Story but for adults, no horror", "brad pit movies"]
    texts += [f"I liked {item.title} and {item.cast[0] if item.cast else 'comedies'}"
              for item in rng.sample(list(ml), 120)]
    for text in texts:
        assert columnar.link(text) == plain.link(text), text
    for name in ["The Matrix", "Nolan", "Heat (1995)", "Tom Hanks"]:
        assert columnar.resolve(name) == plain.resolve(name)
