"""Explanation paths: shared entities between a candidate and what the user liked, ranked by how
much they say; and their pictures."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from kg.models import DIRECTED_BY, HAS_GENRE
from kg.paths import RELATION_WEIGHT, explain, path_nodes, rarity, shared_entities
from kg.render import render_paths

INCEPTION, DARK_KNIGHT, MATRIX, INTERSTELLAR = "79132", "58559", "2571", "109487"
NOLAN = "person:christopher nolan"


def test_shared_director_beats_shared_genre(ml_kg: KnowledgeGraph):
    paths = explain(ml_kg, DARK_KNIGHT, [INCEPTION], max_paths=10)
    assert paths[0].via == NOLAN and paths[0].liked_item == INCEPTION
    first = paths[0].facts
    assert [f.subject for f in first] == ["item:58559", "item:79132"]
    assert {f.object for f in first} == {NOLAN} and first[0].relation == DIRECTED_BY
    genre_paths = [p for p in paths if p.via.startswith("genre:")]
    assert genre_paths and all(p.weight < paths[0].weight / 3 for p in genre_paths)
    weights = [p.weight for p in paths]
    assert weights == sorted(weights, reverse=True)
    assert len({p.via for p in paths}) == len(paths)  # one path per entity


def test_every_fact_is_an_edge(ml_kg: KnowledgeGraph):
    for path in explain(ml_kg, INTERSTELLAR, [INCEPTION, MATRIX], ["genre:sci fi"], max_paths=10):
        for fact in path.facts:
            item_id = fact.subject.split(":", 1)[1]
            assert ml_kg.has_fact(item_id, fact.relation, fact.object)
            assert fact.object == path.via


def test_liked_attributes(ml_kg: KnowledgeGraph):
    paths = explain(ml_kg, DARK_KNIGHT, [], ["genre:action", "person:christian bale",
                                              "genre:musical"], max_paths=5)
    vias = [p.via for p in paths]
    assert vias == ["person:christian bale", "genre:action"]  # no musical: not an edge
    assert paths[1].liked_item is None and paths[1].facts[0].relation == HAS_GENRE
    # an asked-for genre outranks a genre merely shared with a liked film
    mixed = explain(ml_kg, DARK_KNIGHT, [MATRIX], ["genre:crime"], max_paths=10)
    by_via = {p.via: p for p in mixed}
    assert by_via["genre:crime"].weight > by_via["genre:action"].weight


def test_max_paths_and_edge_cases(ml_kg: KnowledgeGraph):
    assert len(explain(ml_kg, DARK_KNIGHT, [INCEPTION, MATRIX], max_paths=2)) == 2
    assert explain(ml_kg, "no such item", [INCEPTION]) == []
    assert explain(ml_kg, DARK_KNIGHT, []) == []
    assert explain(ml_kg, DARK_KNIGHT, [DARK_KNIGHT, "no such item"]) == []


def test_earlier_liked_item_named_on_a_tie(ml_kg: KnowledgeGraph):
    batman_begins = "33794"
    for order in ([INCEPTION, batman_begins], [batman_begins, INCEPTION]):
        [path] = explain(ml_kg, DARK_KNIGHT, order, max_paths=1)
        assert path.via == NOLAN and path.liked_item == order[0]


def test_rarity(ml_kg: KnowledgeGraph):
    assert 0 < rarity(ml_kg, "genre:drama") < 0.2 < rarity(ml_kg, NOLAN) <= 1
    assert shared_entities(ml_kg, DARK_KNIGHT, INCEPTION)[0] in {NOLAN, "person:michael caine"}
    assert RELATION_WEIGHT[DIRECTED_BY] > RELATION_WEIGHT[HAS_GENRE]


@pytest.fixture(scope="module")
def why(ml_kg):
    return explain(ml_kg, DARK_KNIGHT, [INCEPTION], ["person:christian bale"], max_paths=3)


def test_render_png(ml_kg, why):
    png = render_paths(ml_kg, DARK_KNIGHT, why, fmt="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_render_svg_holds_the_labels(ml_kg, why):
    svg = render_paths(ml_kg, DARK_KNIGHT, why, fmt="svg").decode("utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for label in ("The Dark Knight", "(2008)", "Christopher Nolan", "Inception (2010)",
                  "Christian Bale", "You", "directed by"):  # long labels wrap onto lines
        assert label in svg
    assert set(path_nodes(why)) >= {"item:58559", NOLAN, "item:79132"}


def test_render_alone_and_bad_format(ml_kg):
    svg = render_paths(ml_kg, MATRIX, [], fmt="svg").decode("utf-8")
    assert "The Matrix (1999)" in svg
    with pytest.raises(ValueError, match="fmt"):
        render_paths(ml_kg, MATRIX, [], fmt="gif")  # type: ignore[arg-type]
