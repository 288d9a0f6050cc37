"""The knowledge graph on the real catalogs: sizes, specific facts, look-ups and the disk cache."""

from __future__ import annotations

import time

import pytest

from chatrec.config import Settings
from kg.graph import KnowledgeGraph
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

INCEPTION, DARK_KNIGHT, MATRIX = "79132", "58559", "2571"
NOLAN = "person:christopher nolan"


def test_movielens_counts(ml_kg: KnowledgeGraph):
    counts = ml_kg.counts()
    assert counts["item"] == 9742
    assert 9000 < counts["person"] < 12000       # directors, writers, top cast of ~4,000 films
    assert 20 <= counts["genre"] <= 30
    assert 900 < counts["keyword"] < 1100         # tag-genome keywords
    assert 10 <= counts["decade"] <= 13           # 1900s .. 2010s
    assert counts["edges"] > 90_000
    assert repr(ml_kg).startswith("KnowledgeGraph('movielens', items=9742")


def test_redial_counts(redial_kg: KnowledgeGraph):
    counts = redial_kg.counts()
    assert 6400 < counts["item"] < 6583  # 6,583 ReDial ids, films listed twice merged
    assert counts["person"] > 15_000


def test_inception_directed_by_nolan(ml_kg: KnowledgeGraph):
    assert ml_kg.has_fact(INCEPTION, DIRECTED_BY, NOLAN)
    assert ml_kg.has_fact(INCEPTION, WRITTEN_BY, NOLAN)
    assert ml_kg.has_fact(INCEPTION, None, NOLAN)
    assert not ml_kg.has_fact(INCEPTION, STARS, NOLAN)
    assert not ml_kg.has_fact(MATRIX, DIRECTED_BY, NOLAN)
    assert ml_kg.relations_between(INCEPTION, NOLAN) == [DIRECTED_BY, WRITTEN_BY]
    facts = ml_kg.facts_of(INCEPTION)
    assert Fact(subject="item:79132", relation=DIRECTED_BY, object=NOLAN,
                subject_label="Inception (2010)", object_label="Christopher Nolan") in facts
    assert str(ml_kg.fact(INCEPTION, DIRECTED_BY, NOLAN)) == \
        "Inception (2010) —directed_by→ Christopher Nolan"
    assert ml_kg.fact(INCEPTION, STARS, NOLAN) is None
    relations = {f.relation for f in facts}
    assert {DIRECTED_BY, STARS, WRITTEN_BY, HAS_GENRE, HAS_KEYWORD, RELEASED_IN} <= relations
    assert ml_kg.entities_of(INCEPTION, [DIRECTED_BY]) == [NOLAN]
    assert "decade:2010" in ml_kg.entities_of(INCEPTION)
    assert [f.relation for f in ml_kg.facts_of(INCEPTION, [RELEASED_IN])] == [RELEASED_IN]


def test_dark_knight_shares_nolan_with_inception(ml_kg: KnowledgeGraph):
    nolan_films = ml_kg.items_with(NOLAN)
    assert {INCEPTION, DARK_KNIGHT} <= nolan_films
    assert ml_kg.items_with(NOLAN, DIRECTED_BY) <= nolan_films
    assert MATRIX not in nolan_films
    assert ml_kg.degree(NOLAN) == len(nolan_films)
    assert ml_kg.degree("genre:drama") > 4000 > ml_kg.degree(NOLAN)
    assert ml_kg.degree("person:nobody at all") == 0
    assert ml_kg.items_with("person:nobody at all") == set()


def test_labels_are_human_spellings(ml_kg: KnowledgeGraph):
    assert ml_kg.label("item:2571") == "The Matrix (1999)"
    assert ml_kg.label(NOLAN) == "Christopher Nolan"
    assert ml_kg.label("person:joseph gordon levitt") == "Joseph Gordon-Levitt"
    assert ml_kg.label("decade:1990") == "1990s"
    assert ml_kg.label("genre:sci fi") == "sci-fi"
    assert ml_kg.label("person:unknown name") == "unknown name"  # never fails
    assert ml_kg.facts_of("no such item") == []
    assert ml_kg.entities_of("no such item") == []


def test_networkx_view(books_kg: KnowledgeGraph):
    graph = books_kg.graph
    counts = books_kg.counts()
    assert graph.number_of_nodes() == sum(v for k, v in counts.items() if k != "edges")
    assert graph.number_of_edges() == counts["edges"]
    assert graph.nodes["item:b1"] == {"kind": "item", "label": "Dune (1965)"}
    assert graph.has_edge("item:b1", "person:frank herbert", key=MADE_BY)


def test_custom_catalog_graph(books_kg: KnowledgeGraph):
    assert books_kg.items_with("person:stephen king") == {"b6", "b7", "b10"}
    assert books_kg.has_fact("b2", MADE_BY, "person:j r r tolkien")
    assert books_kg.label("person:j r r tolkien") == "J. R. R. Tolkien"
    assert books_kg.items_with("keyword:quest") == {"b2", "b3"}


def test_cache_second_load_is_faster_and_equal(ml, tmp_path):
    settings = Settings(home=tmp_path)
    ml = ml.subset(ml.ids[:4000], name="movielens-part")  # same code path, a third of the time
    started = time.perf_counter()
    built = KnowledgeGraph.load_or_build(ml, settings)
    build_time = time.perf_counter() - started
    path = KnowledgeGraph.cache_path(ml, settings)
    assert path.exists() and path.parent == settings.cache_dir / "kg"
    started = time.perf_counter()
    loaded = KnowledgeGraph.load_or_build(ml, settings)
    load_time = time.perf_counter() - started
    assert loaded == built and loaded is not built
    assert loaded.facts_of("1") == built.facts_of("1") != []
    assert load_time < build_time


def test_damaged_cache_is_rebuilt(books, books_kg, tmp_path):
    settings = Settings(home=tmp_path)
    path = KnowledgeGraph.cache_path(books, settings)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    rebuilt = KnowledgeGraph.load_or_build(books, settings)
    assert rebuilt == books_kg
    assert KnowledgeGraph.load_or_build(books, settings) == books_kg  # and re-cached


@pytest.mark.parametrize("kind", ["item", "person", "genre", "keyword", "decade"])
def test_nodes_by_kind(books_kg: KnowledgeGraph, kind):
    nodes = books_kg.nodes(kind)
    assert nodes and all(n.startswith(kind + ":") for n in nodes)
    assert len(nodes) == books_kg.counts()[kind]
